"""Customers understood: one person across records and cards, their behaviour, segments, value and offer take-up."""
