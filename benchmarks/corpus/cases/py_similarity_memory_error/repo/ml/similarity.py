def pairwise_buffer(n_items: int) -> bytearray:
    return bytearray(n_items * n_items * 8)


if __name__ == "__main__":
    buffer = pairwise_buffer(2_500_000)
    print(len(buffer))
