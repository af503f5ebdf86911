"""Typed settings, layered: documented defaults -> `shelfwise.toml` -> `SHELFWISE_*` environment -> flags.

Every setting carries its help text here, and the `shelfwise.toml` written by `shelfwise init` is generated
from the same fields, so a setting cannot exist without documentation (a test checks it). Environment
variables use the section and key in upper case: `SHELFWISE_WAREHOUSE__MEMORY_LIMIT=4GB`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shelfwise.schema import TABLES, LoadMode

if TYPE_CHECKING:
    from shelfwise.customers.identity import IdentitySettings
    from shelfwise.customers.links import LinkSettings
    from shelfwise.customers.segments import SegmentSettings
    from shelfwise.customers.value import ValueSettings

CONFIG_FILE = "shelfwise.toml"


def _setting(default: Any, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class WorkspaceSettings:
    """Where a workspace keeps its parts, relative to the workspace folder."""

    warehouse: str = _setting("warehouse.duckdb", "DuckDB file that holds every table.")
    landing: str = _setting("landing", "Folder where incoming files are dropped.")
    artifacts: str = _setting("artifacts", "Folder for reports, exports and models.")
    language: str = _setting("pt", "Language of messages and reports: 'pt' (português) or 'en' (English).")
    timezone: str = _setting("America/Sao_Paulo", "Time zone that naive timestamps in the files are in.")


@dataclass(frozen=True)
class WarehouseSettings:
    """How the DuckDB warehouse is run."""

    memory_limit: str = _setting("1GB", "DuckDB memory limit; larger work spills to the workspace's .tmp.")
    threads: int = _setting(0, "DuckDB threads; 0 means one per core.")
    lock_timeout_seconds: float = _setting(
        600.0, "How long a command waits for another command that holds the warehouse before giving up."
    )


@dataclass(frozen=True)
class IngestSettings:
    """How files are read and loaded."""

    default_store_id: str = _setting("main", "store_id given to sales and stock rows of a file with no store.")
    future_tolerance_days: int = _setting(
        1, "Rows dated more than this many days after today are quarantined (campaigns are exempt)."
    )
    encoding: str = _setting("auto", "Text encoding of CSV files: 'auto', 'utf-8', 'cp1252' or 'latin-1'.")
    memory_limit: str = _setting(
        "96MB", "DuckDB memory while loading files. Loads stream, so this serves files of any size; what does not "
        "fit (e.g. checking the keys of a very large file) spills to the workspace's .tmp.",
    )
    mode: dict[str, str] = field(default=None, metadata={"help": (  # type: ignore[assignment]
        "Per table, how a file combines with what is loaded: 'upsert' replaces rows with the same key and "
        "appends the rest; 'replace-period' first removes the file's stores' rows inside the file's first and "
        "last date (for corrected exports)."
    )})

    def __post_init__(self) -> None:
        modes = {name: LoadMode.UPSERT.value for name in TABLES} | dict(self.mode or {})
        for name, value in modes.items():
            if name not in TABLES:
                raise ConfigError(f"[ingest.mode] names unknown table '{name}'; expected one of: {', '.join(TABLES)}")
            LoadMode(value)
        object.__setattr__(self, "mode", modes)


DEFAULT_RETENTION_DAYS: dict[str, int] = {
    "transactions": 1825, "visits": 365, "feedback": 730, "subscriptions": 1825, "quarantine": 180,
    "customers": 1825,
}
"""Days kept per table; customers counts days without any activity (receipt, subscription or new record)."""

DEFAULT_LEGAL_BASES: dict[str, str] = {
    "analytics": "legitimate_interest", "marketing_contact": "consent", "partner_offer": "consent",
}


@dataclass(frozen=True)
class PrivacySettings:
    """How personal data is protected (LGPD): the key, the vault, the audit log, retention and legal bases."""

    key_file: str = _setting(
        "privacy.key", "File with the secret key that encrypts the vault and keys the pseudonyms, used when "
        "SHELFWISE_PRIVACY_KEY is not set; created (mode 0600) on first use. In production keep it outside the "
        "workspace (an absolute path on another volume, or the environment variable).",
    )
    vault: str = _setting("vault.duckdb", "Encrypted vault of raw personal data, apart from the warehouse.")
    audit_log: str = _setting("audit.log", "Append-only, hash-chained log of privacy operations and personal-data "
                              "reads.")
    controller: str = _setting("", "Controller (controlador) named in the record of processing and in receipts.")
    dpo_contact: str = _setting("", "Contact of the encarregado (DPO) named in the record of processing and receipts.")
    answer_days: int = _setting(15, "Days within which a data-subject request must be answered (LGPD Art. 19).")
    retention: dict[str, int] = field(default=None, metadata={"help": (  # type: ignore[assignment]
        "Days each table keeps rows, by their date (customers: days without activity); 0 keeps them forever. "
        "'shelfwise privacy retention' purges what expired."
    )})
    legal_basis: dict[str, str] = field(default=None, metadata={"help": (  # type: ignore[assignment]
        "Legal basis (LGPD Art. 7) per purpose: consent, legitimate_interest, contract, legal_obligation."
    )})
    recipients: dict[str, str] = field(default=None, metadata={"help": (  # type: ignore[assignment]
        "Who receives personal data outside the controller (name = what and why), for the record of processing."
    )})

    def __post_init__(self) -> None:
        retention = DEFAULT_RETENTION_DAYS | {k: int(v) for k, v in (self.retention or {}).items()}
        for name in retention:
            if name not in TABLES and name != "quarantine":
                raise ConfigError(f"[privacy.retention] names unknown table '{name}'; expected one of: "
                                  f"{', '.join([*TABLES, 'quarantine'])}")
        bases = DEFAULT_LEGAL_BASES | dict(self.legal_basis or {})
        for purpose, basis in bases.items():
            if purpose not in DEFAULT_LEGAL_BASES:
                raise ConfigError(f"[privacy.legal_basis] names unknown purpose '{purpose}'; expected one of: "
                                  f"{', '.join(DEFAULT_LEGAL_BASES)}")
            if basis not in LEGAL_BASES:
                raise ConfigError(f"[privacy.legal_basis] {purpose} = '{basis}' is not one of {', '.join(LEGAL_BASES)}")
        object.__setattr__(self, "retention", retention)
        object.__setattr__(self, "legal_basis", bases)
        object.__setattr__(self, "recipients", dict(self.recipients or {}))


LEGAL_BASES = ("consent", "legitimate_interest", "contract", "legal_obligation")


FORECAST_MODELS = ("lightgbm", "auto_ets", "seasonal_naive", "auto_theta", "auto_arima", "mstl", "croston", "tsb",
                   "adida", "imapa")
"""Every candidate model `[forecast] models` may name (see `shelfwise.forecast.automl`)."""
SELECTION_METRICS = ("mase", "wape")


@dataclass(frozen=True)
class ForecastSettings:
    """How demand is forecast: the horizon, the candidate models and how the backtest chooses among them."""

    horizon: int = _setting(28, "Days forecast after the last sales date.")
    windows: int = _setting(3, "Rolling-origin backtest windows (each as long as the horizon); at least 3.")
    models: str = _setting(
        "lightgbm,auto_ets,seasonal_naive,croston,tsb,adida,imapa",
        "Comma-separated candidates: lightgbm (one global model), auto_ets, seasonal_naive, auto_theta, auto_arima, "
        "mstl (weekly + yearly) for every series; croston, tsb, adida, imapa for intermittent and lumpy ones. "
        "auto_theta, auto_arima and mstl cost 3x to 100x auto_ets per series: add them for small catalogues.",
    )
    metric: str = _setting("mase", "Backtest metric that ranks the models: 'mase' or 'wape'.")
    selection_margin: float = _setting(
        0.10, "A single model replaces the combination of the best two for a series only when its backtest metric "
        "is lower by at least this share (noise in three windows is larger than small differences).",
    )
    min_history_days: int = _setting(
        56, "Series with fewer days of history borrow their level and shape from their category in their store.",
    )

    def __post_init__(self) -> None:
        unknown = sorted(set(self.model_list) - set(FORECAST_MODELS))
        if unknown or not self.model_list:
            raise ConfigError(f"[forecast] models: unknown {unknown or 'empty list'}; expected some of: "
                              f"{', '.join(FORECAST_MODELS)}")
        if self.metric not in SELECTION_METRICS:
            raise ConfigError(f"[forecast] metric = '{self.metric}'; expected one of: {', '.join(SELECTION_METRICS)}")
        if self.horizon < 1 or self.windows < 1 or self.min_history_days < 14:
            raise ConfigError("[forecast] horizon and windows must be >= 1 and min_history_days >= 14")

    @property
    def model_list(self) -> tuple[str, ...]:
        """The candidates, in the order given."""
        return tuple(dict.fromkeys(m.strip() for m in self.models.split(",") if m.strip()))


@dataclass(frozen=True)
class ComputeSettings:
    """Where the heavy work runs: this machine's cores, or a Dask cluster."""

    engine: str = _setting("local", "'local' (every core of this machine) or 'dask' (a Dask cluster).")
    scheduler: str = _setting("", "Address of the Dask scheduler (tcp://host:8786) when engine = 'dask'.")
    n_jobs: int = _setting(0, "Processes/threads for local work; 0 means one per core.")

    def __post_init__(self) -> None:
        if self.engine not in ("local", "dask"):
            raise ConfigError(f"[compute] engine = '{self.engine}'; expected 'local' or 'dask'")
        if self.engine == "dask" and not self.scheduler:
            raise ConfigError("[compute] engine = 'dask' needs scheduler = 'tcp://host:port'")


@dataclass(frozen=True)
class ReplenishSettings:
    """How orders are proposed from the forecast and the stock snapshot."""

    service_level: float = _setting(0.95, "Cycle service level: the chance that stock lasts until the next order "
                                    "arrives.")
    review_period_days: int = _setting(7, "Days between replenishment runs (orders are sized to last that long).")
    default_lead_time_days: int = _setting(7, "Lead time of products whose record and supplier give none.")
    assume_missing_stock_zero: bool = _setting(
        False, "Plan series without a stock snapshot as if nothing were on hand (default: no order, a note).")


@dataclass(frozen=True)
class IdentityConfig:
    """How customer records, cards and devices are linked into persons (`shelfwise identity`)."""

    link_threshold: float = _setting(0.95, "Record pairs scoring at least this match probability are the same "
                                     "person.")
    review_threshold: float = _setting(
        0.5, "Pairs scoring from here up to link_threshold go to the review list (identity_review) for an analyst.")
    default_area_code: str = _setting("11", "Area code (DDD) given to phone numbers written without one.")
    min_device_matches: int = _setting(
        3, "A Wi-Fi device or car plate is a person's when at least this many of its sessions hold a receipt of "
        "theirs...")
    min_device_share: float = _setting(0.2, "...and those sessions are at least this share of the device's "
                                       "sessions...")
    device_dominance: float = _setting(2.0, "...and at least this many times more than any other person's.")
    session_minutes: float = _setting(
        60.0, "How long a footfall session lasts when the source gives no dwell time (receipts inside it count).")

    def resolution(self) -> IdentitySettings:
        """The record-linkage settings of `shelfwise.customers.identity` (imported here: Splink loads slowly)."""
        from shelfwise.customers.identity import IdentitySettings

        return IdentitySettings(link_threshold=self.link_threshold, review_threshold=self.review_threshold,
                                default_area_code=self.default_area_code)

    def links(self) -> LinkSettings:
        """The card and device settings of `shelfwise.customers.links`."""
        from shelfwise.customers.links import LinkSettings

        return LinkSettings(min_device_matches=self.min_device_matches, min_device_share=self.min_device_share,
                            device_dominance=self.device_dominance, session_minutes=self.session_minutes)


@dataclass(frozen=True)
class ValueConfig:
    """How customer value is modelled (`shelfwise value`): BG/NBD purchases and Gamma-Gamma spend."""

    time_unit_days: int = _setting(7, "Days in the models' time unit (7: rates per week, as Fader, Hardie & Lee).")
    horizon_days: int = _setting(365, "Days ahead the expected purchases and value are summed over.")
    annual_discount_rate: float = _setting(0.0, "Yearly rate future value is discounted at (0.1 = 10% a year).")

    def model(self) -> ValueSettings:
        """The settings of `shelfwise.customers.value`."""
        from shelfwise.customers.value import ValueSettings

        return ValueSettings(time_unit_days=self.time_unit_days, horizon_days=self.horizon_days,
                             annual_discount_rate=self.annual_discount_rate)


@dataclass(frozen=True)
class SegmentConfig:
    """How customers are segmented and named (`shelfwise segment`)."""

    method: str = _setting("kmeans", "'kmeans', 'gmm' (Gaussian mixture) or 'hdbscan' (density; noise stays "
                           "unclassified).")
    k: int = _setting(0, "Number of segments; 0 chooses it by silhouette and bootstrap stability.")
    k_min: int = _setting(3, "Fewest segments tried when choosing.")
    k_max: int = _setting(8, "Most segments tried when choosing.")
    min_receipts: int = _setting(3, "Persons with fewer receipts are not segmented ('Poucos dados'): two "
                                 "receipts say little about a habit.")

    def __post_init__(self) -> None:
        if self.method not in ("kmeans", "gmm", "hdbscan"):
            raise ConfigError(f"[segment] method = '{self.method}'; expected kmeans, gmm or hdbscan")
        if not 2 <= self.k_min <= self.k_max or self.k < 0 or self.min_receipts < 1:
            raise ConfigError("[segment] needs 2 <= k_min <= k_max, k >= 0 and min_receipts >= 1")

    def model(self, *, method: str | None = None, k: int | None = None) -> SegmentSettings:
        """The settings of `shelfwise.customers.segments`, with a command line's method and k."""
        from shelfwise.customers.segments import SegmentSettings

        return SegmentSettings(method=method or self.method, k=k or self.k or None, k_min=self.k_min,
                               k_max=self.k_max, min_receipts=self.min_receipts)


def parameters_of(section: object) -> dict[str, object]:
    """A settings section as a run's parameters."""
    return {f.name: getattr(section, f.name) for f in fields(section)}


@dataclass(frozen=True)
class Settings:
    """All settings of a workspace."""

    workspace: WorkspaceSettings = field(default_factory=WorkspaceSettings)
    warehouse: WarehouseSettings = field(default_factory=WarehouseSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    forecast: ForecastSettings = field(default_factory=ForecastSettings)
    replenish: ReplenishSettings = field(default_factory=ReplenishSettings)
    compute: ComputeSettings = field(default_factory=ComputeSettings)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    segment: SegmentConfig = field(default_factory=SegmentConfig)
    value: ValueConfig = field(default_factory=ValueConfig)


class ConfigError(ValueError):
    """A setting is unknown or has a value of the wrong kind."""


def load_settings(path: Path | None, environ: dict[str, str] | None = None) -> Settings:
    """Read settings from a TOML file (if any), then apply `SHELFWISE_SECTION__KEY` environment overrides."""
    data: dict[str, dict[str, Any]] = {}
    if path is not None and path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: {error}") from None
    for name, value in (environ if environ is not None else os.environ).items():
        if name.startswith("SHELFWISE_") and "__" in name:
            section, key = name.removeprefix("SHELFWISE_").lower().split("__", 1)
            data.setdefault(section, {})[key] = value
    return _build(data, source=str(path or "defaults"))


def _build(data: dict[str, dict[str, Any]], source: str) -> Settings:
    sections = {}
    for section_field in fields(Settings):
        section_type = section_field.default_factory()  # type: ignore[misc]
        given = dict(data.pop(section_field.name, {}))
        known = {f.name: f for f in fields(section_type)}
        unknown = set(given) - set(known)
        if unknown:
            raise ConfigError(
                f"{source}: unknown setting(s) {sorted(unknown)} in [{section_field.name}]; "
                f"expected: {', '.join(known)}"
            )
        coerced = {
            key: _coerce(value, known[key].default, f"{section_field.name}.{key}") for key, value in given.items()
        }
        sections[section_field.name] = replace(section_type, **coerced)
    if data:
        raise ConfigError(f"{source}: unknown section(s) {sorted(data)}; expected: {', '.join(sections)}")
    return Settings(**sections)


def _coerce(value: Any, default: Any, name: str) -> Any:
    if default is None or isinstance(value, dict):
        return value
    try:
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes", "sim"}
        return type(default)(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name} = {value!r} is not a {type(default).__name__}") from None


def render_default_toml() -> str:
    """The commented `shelfwise.toml` that `shelfwise init` writes: every setting with its help and default."""
    lines = ["# Shelfwise workspace settings. Environment variables override them: SHELFWISE_SECTION__KEY.", ""]
    defaults = Settings()
    for section_field in fields(Settings):
        section = getattr(defaults, section_field.name)
        lines.append(f"[{section_field.name}]")
        tables = []
        for setting in fields(section):
            value = getattr(section, setting.name)
            if isinstance(value, dict):
                tables.append((setting, value))
                continue
            lines.append(f"# {setting.metadata['help']}")
            lines.append(f"{setting.name} = {_toml_value(value)}")
        lines.append("")
        for setting, value in tables:
            lines.append(f"# {setting.metadata['help']}")
            lines.append(f"[{section_field.name}.{setting.name}]")
            lines.extend(f"{name} = {_toml_value(item)}" for name, item in value.items())
            lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
