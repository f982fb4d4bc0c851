def to_contact(record: dict) -> dict:
    return {
        "id": record["id"],
        "name": f'{record["first_name"]} {record["last_name"]}'.strip(),
        "email": record["email"].lower(),
        "country": record.get("country", "unknown"),
    }
