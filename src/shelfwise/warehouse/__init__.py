"""The DuckDB warehouse: connections under a cross-process lock, the contract's tables, export.

DuckDB lets one process write a database file, and refuses other processes while it does. Rather than let
a second command die with DuckDB's lock error, every connection first takes an advisory lock on a side
file — shared for readers, exclusive for writers — and waits for it, saying which command holds it.
"""

from shelfwise.warehouse.core import Warehouse, WarehouseBusyError, has_table
from shelfwise.warehouse.export import EXPORT_FORMATS, export_table

__all__ = ["EXPORT_FORMATS", "Warehouse", "WarehouseBusyError", "export_table", "has_table"]
