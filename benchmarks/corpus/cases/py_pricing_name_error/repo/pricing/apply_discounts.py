def discounted(price: float, tier: str) -> float:
    discount_rates = {"gold": 0.2, "silver": 0.1}
    rate = discount_rates.get(tier, 0.0)
    return round(price * (1 - discount_rate), 2)


if __name__ == "__main__":
    print(discounted(100.0, "gold"))
