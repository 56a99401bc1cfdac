"""get-price benchmark skill: a price with a bulky history."""

import hashlib


def _n(text: str, mod: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % mod


def get_price(sku: str) -> dict:
    """Price of `sku` in USD: {"sku", "price", "currency", "vendor", "history"}."""
    return {
        "sku": sku,
        "price": round(10 + _n(sku, 9000) / 100, 2),
        "currency": "USD",
        "vendor": {"name": f"Vendor {_n(sku + 'v', 90)}", "country": "US", "rating": 4.2},
        "history": [round(10 + _n(f"{sku}{d}", 9000) / 100, 2) for d in range(30)],
    }
