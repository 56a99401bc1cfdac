"""list-orders benchmark skill: a long, deterministic list of order dicts."""

import hashlib

STATUSES = ("shipped", "pending", "cancelled")


def _n(text: str, mod: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % mod


def list_orders(customer: str) -> list[dict]:
    """Orders of `customer`: dicts with id, sku, qty, unit_price, status, address, notes."""
    return [
        {
            "id": f"{customer}-{i:03d}",
            "sku": f"SKU-{_n(customer + str(i), 50):02d}",
            "qty": 1 + _n(f"{customer}{i}q", 5),
            "unit_price": round(5 + _n(f"{customer}{i}p", 9500) / 100, 2),
            "status": STATUSES[_n(f"{customer}{i}s", 3)],
            "address": f"{_n(customer + str(i), 200)} Long Street, Springfield, 12345",
            "notes": "leave the parcel at the front desk if nobody answers the door",
        }
        for i in range(40)
    ]
