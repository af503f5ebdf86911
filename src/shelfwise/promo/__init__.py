"""Promotions measured honestly: lift against a counterfactual baseline, campaign planning, A/B tests, cross-sell."""
