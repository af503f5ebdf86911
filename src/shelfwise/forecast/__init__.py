"""Demand forecasting per (store, product) series: history preparation, classification, AutoML, intervals."""
