"""Run every benchmark in this folder, one after the other."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# national.py builds ~325 appendices when run alone (the 30-minute goal); here it builds five
# and extrapolates, so `make benchmark` stays a coffee break
ARGS = {"national.py": ["--partnerships", "5"]}
for script in sorted(HERE.glob("*.py")):
    # compare_text.py is a tool (it needs a git ref), not a benchmark
    if script.name not in ("run_all.py", "compare_text.py"):
        print(f"== {script.name}", flush=True)
        subprocess.run([sys.executable, str(script), *ARGS.get(script.name, [])], check=True)
