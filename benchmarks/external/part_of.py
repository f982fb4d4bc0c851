"""Which part of the external corpus a case belongs to, decided by its id alone (never by content).

    python benchmarks/external/part_of.py CASE_ID   ->  dev | heldout
"""

import hashlib
import sys


def part_of(case_id: str) -> str:
    return "heldout" if int(hashlib.sha256(case_id.encode()).hexdigest()[:8], 16) % 100 < 35 else "dev"


if __name__ == "__main__":
    print(part_of(sys.argv[1]))
