"""Building, evaluating and retraining the triage models (never imported by ``service``)."""
