"""convert-currency benchmark skill: fixed rates, a small result."""

RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79}


def convert_currency(amount: float, from_currency: str, to_currency: str) -> float:
    """Convert `amount` from `from_currency` to `to_currency` (USD, EUR, GBP)."""
    if from_currency not in RATES or to_currency not in RATES:
        raise ValueError(f"unsupported currency; use one of {sorted(RATES)}")
    return round(amount / RATES[from_currency] * RATES[to_currency], 2)
