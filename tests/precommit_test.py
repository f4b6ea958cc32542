"""The pre-commit hooks of .pre-commit-hooks.yaml, run by Debian's real `pre-commit` against this
checkout (`pre-commit try-repo`) in a temporary git repository: the fix hook fails on a file with a
fixable finding, fixes it, and passes afterwards; the diff hook fails with the diff and changes
nothing. Exits 77 (skipped) only when pre-commit is not installed. Run with /usr/bin/python3."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from checks import check, summary

CLOSURE_FREE = "def outer(xs):\n    def key(x):\n        return -x\n    return sorted(xs, key=key)\n"
SKIP = 77


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spipfix", required=True)
    ap.add_argument("--repo", required=True, help="this checkout (holds .pre-commit-hooks.yaml)")
    a = ap.parse_args()
    precommit = shutil.which("pre-commit", path="/usr/bin:/bin:" + os.environ.get("PATH", ""))
    if not precommit:
        print("SKIP: pre-commit is not installed (Debian: apt-get install pre-commit; .ci/install-deps does it)")
        return SKIP
    spipfix_dir = os.path.dirname(os.path.abspath(a.spipfix))
    with tempfile.TemporaryDirectory() as d:
        work = os.path.join(d, "work")
        os.makedirs(work)
        env = dict(os.environ)
        env.update({
            # the hooks are `language: system`: they find the spipfix under test first on PATH
            "PATH": spipfix_dir + ":/usr/bin:/bin",
            "HOME": d,
            "PRE_COMMIT_HOME": os.path.join(d, "pre-commit-cache"),
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
            "GIT_CONFIG_NOSYSTEM": "1",
        })

        def sh(*cmd):
            p = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=300,
                               stdin=subprocess.DEVNULL)
            return p.returncode, p.stdout + p.stderr

        sh("git", "init", "-q", ".")
        path = os.path.join(work, "app.py")
        with open(path, "w") as f:
            f.write(CLOSURE_FREE)
        with open(os.path.join(work, "clean.py"), "w") as f:
            f.write("def f(x):\n    return x + 1\n")
        sh("git", "add", "app.py", "clean.py")
        rc, out = sh("git", "commit", "-q", "-m", "init")
        check("temporary repository committed", rc == 0, out)

        rc, out = sh(precommit, "try-repo", a.repo, "spipfix-diff", "--all-files", "--verbose")
        check("diff hook fails on a fixable finding", rc != 0 and "Failed" in out, out)
        check("diff hook shows the diff", "+def _outer_key(x):" in out, out)
        check("diff hook changes nothing", open(path).read() == CLOSURE_FREE)

        rc, out = sh(precommit, "try-repo", a.repo, "spipfix", "--all-files")
        fixed = open(path).read()
        check("fix hook fails on a fixable finding", rc != 0 and "Failed" in out
              and "files were modified by this hook" in out, out)
        check("fix hook fixed the file", "def _outer_key(x):" in fixed and "key=_outer_key" in fixed, fixed)
        rc, out = sh(precommit, "try-repo", a.repo, "spipfix", "--all-files")
        check("fix hook passes afterwards", rc == 0 and "Passed" in out, out)
        check("second run changes nothing", open(path).read() == fixed)
        rc, out = sh(precommit, "try-repo", a.repo, "spipfix-diff", "--all-files")
        check("diff hook passes afterwards", rc == 0 and "Passed" in out, out)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
