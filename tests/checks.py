"""The pass/fail bookkeeping shared by the Python test drivers: each check prints one line,
and summary() prints the totals and gives the exit status."""
failures = []
passed = 0


def check(name, cond, detail=""):
    global passed
    if cond:
        passed += 1
        print(f"PASS {name}")
    else:
        failures.append(name)
        print(f"FAIL {name} {str(detail)[:2000]}")


def summary():
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0
