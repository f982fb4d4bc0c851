import sys


def build(documents: int) -> list[bytes]:
    postings = []
    for doc in range(documents):
        postings.append(bytes(1_000_000))
    return postings


if __name__ == "__main__":
    index = build(2_000)
    print(f"indexed {len(index)} documents", file=sys.stderr)
