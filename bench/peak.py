"""`python bench/peak.py FILE COMMAND...`: run COMMAND and write its peak resident memory
(kB, the largest of it and its children) to FILE; exits with COMMAND's status."""

import resource
import subprocess
import sys
from pathlib import Path

status = subprocess.call(sys.argv[2:])
Path(sys.argv[1]).write_text(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(status)
