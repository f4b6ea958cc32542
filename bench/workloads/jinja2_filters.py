"""A jinja2 workload through the code that spipfix's safe fixes change in Debian's python3-jinja2:
select/reject with a test and no attribute (filters.prepare_select_or_reject.transfunc), urlize
without a length limit (utils.urlize.trim_url), and template compilation (the sort key lambda of
Environment.iter_extensions). Prints a digest of everything rendered, so that both sides of
`spipfix bench --run` can be compared.

    spipfix bench --run '/usr/bin/python3 "$SPIPFIX_CWD/bench/workloads/jinja2_filters.py"' \
        /usr/lib/python3/dist-packages/jinja2

(from the repository root: $SPIPFIX_CWD is the folder spipfix was started in)
"""
import hashlib
import os

import jinja2

tree = os.environ.get("SPIPFIX_TREE")
if tree and not jinja2.__file__.startswith(tree + os.sep):
    raise SystemExit(f"imported {jinja2.__file__}, not the tree under test {tree}")

env = jinja2.Environment(autoescape=True)
page = env.from_string(
    "{% for row in rows %}"
    "{{ row|select('odd')|list|length }} {{ row|reject('even')|list|length }} "
    "{{ row|select('divisibleby', 3)|list|length }} {{ text|urlize }}\n"
    "{% endfor %}")
rows = [list(range(k % 7, k % 7 + 12)) for k in range(200)]
text = "docs at https://example.org/guide and www.python.org, mail me@example.org"
digest = hashlib.sha256()
for _ in range(25):
    digest.update(page.render(rows=rows, text=text).encode())
for i in range(150):
    digest.update(env.from_string("{{ x|default(%d) }} {%% if y %%}{{ y }}{%% endif %%}" % i).render(y=i).encode())
print(digest.hexdigest())
