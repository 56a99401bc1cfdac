"""get-weather benchmark skill: a bulky, deterministic weather report."""

import hashlib


def _n(text: str, mod: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % mod


def get_weather(city: str) -> dict:
    """Weather for `city`: temp_c, humidity, wind_kmh, station, a 7-day forecast and notes."""
    forecast = [
        {
            "day": day,
            "high_c": 10 + _n(f"{city}{day}h", 20),
            "low_c": _n(f"{city}{day}l", 10),
            "rain_mm": _n(f"{city}{day}r", 30) / 10,
            "summary": "variable cloud with sunny intervals and a light breeze from the west",
        }
        for day in range(1, 8)
    ]
    return {
        "city": city,
        "temp_c": 5 + _n(city, 25),
        "humidity": 30 + _n(city + "h", 60),
        "wind_kmh": _n(city + "w", 40),
        "station": {"id": f"ST-{_n(city, 9999):04d}", "elevation_m": _n(city + "e", 900)},
        "forecast": forecast,
        "notes": f"Observations for {city} are averaged over the last hour from the city station. "
        * 4,
    }
