from pathlib import Path

spool = Path("spool")
spool.mkdir(exist_ok=True)
with open(spool / "export.bin", "wb") as handle:
    for chunk in range(64):
        handle.write(b"x" * 1_000_000)
        handle.flush()
