"""Sample-client specifications: the parameters of each simulated world and its planted effects."""

from __future__ import annotations

from dataclasses import dataclass, field

# Fixed data period (UTC seconds), never relative to today.
PERIOD_START = "2024-01-01"
PERIOD_END = "2025-12-31"
T0 = 1704067200  # 2024-01-01T00:00:00Z
T_END = 1767225599  # 2025-12-31T23:59:59Z
QUOTE_END = 1764460800  # 2025-11-30: quotes stop so every 30-day window closes inside the data
DAY = 86400
MINUTE = 60

GENERATOR_VERSION = "1.0.0"


@dataclass(frozen=True)
class Segment:
    """A persona: share of persons, web preference, premium level and conversion multiplier."""

    name: str
    share: float
    web_share: float
    premium: float
    conv_mult: float


@dataclass(frozen=True)
class LeadSource:
    """An acquisition lead source: share, conversion multiplier, follow-up call habits."""

    name: str
    share: float
    conv_mult: float
    call_prob: float
    latency_median_min: float


@dataclass(frozen=True)
class SampleSpec:
    """Everything that defines one sample client (world parameters + house style name)."""

    client: str
    name: str
    country: str
    currency: str
    timezone: str
    gross_margin: float
    branding: dict[str, str]
    style: str
    default_seed: int
    default_customers: int
    segments: tuple[Segment, ...]
    sources: tuple[LeadSource, ...]
    regions: tuple[str, ...]
    canary_campaign: str
    test_code: str
    products: tuple[str, ...]
    anon_share: float = 0.15
    anon_quote_start: float = 0.45
    base_conv: float = 0.17
    # latency effect: multiplier within_min, linear to 1.0 at after_min
    latency_within_min: float = 20.0
    latency_after_min: float = 60.0
    latency_mult_within: float = 2.0
    switch_prob: float = 0.18
    switch_mult: float = 1.5
    id_check_start: float = 0.6
    id_check_fail: float = 0.9
    normal_step_fail: float = 0.12
    email_followup_prob: float = 0.5
    test_start: str = "2025-03-01"
    test_end: str = "2025-06-01"
    cost_phone: float = 4.50
    cost_email: float = 0.12
    test_call_max_min: float = 20.0
    # BG/NBD (time unit: weeks) and Gamma-Gamma spend
    bgnbd: dict[str, float] = field(
        default_factory=lambda: {"r": 0.6, "alpha": 30.0, "a": 1.0, "b": 3.0}
    )
    gamma_gamma: dict[str, float] = field(
        default_factory=lambda: {"p": 6.0, "q": 4.0, "gamma": 60.0}
    )
    payout_prob: float = 0.4
    complaint_base: float = 0.02
    complaint_slope: float = 0.025
    complaint_cap: float = 0.45
    complaint_flat: float = 0.06
    background_complaint: float = 0.03
    app_prob: float = 0.0


ACME = SampleSpec(
    client="acme-motor",
    name="Acme Motor Insurance",
    country="GB",
    currency="GBP",
    timezone="Europe/London",
    gross_margin=0.22,
    branding={"primary": "#0B3D91", "accent": "#F2A900"},
    style="acme",
    default_seed=20240101,
    default_customers=7000,
    segments=(
        Segment("young_urban", 0.30, 0.80, 780.0, 0.85),
        Segment("family", 0.35, 0.60, 620.0, 1.15),
        Segment("retired", 0.20, 0.30, 410.0, 1.00),
        Segment("small_business", 0.15, 0.55, 1150.0, 1.25),
    ),
    sources=(
        LeadSource("comparison_site", 0.35, 1.00, 0.85, 18.0),
        LeadSource("search", 0.25, 1.10, 0.80, 35.0),
        LeadSource("social", 0.15, 0.30, 0.70, 80.0),
        LeadSource("referral", 0.15, 1.20, 0.75, 45.0),
        LeadSource("affiliate", 0.10, 0.95, 0.70, 60.0),
    ),
    regions=("London", "South East", "North West", "Scotland", "Wales", "Midlands"),
    canary_campaign="Acme Spring Saver",
    test_code="ACME-FU-TEST-2025",
    products=("Comprehensive", "Third Party Fire & Theft", "Fleet"),
)

def _brightside() -> SampleSpec:
    return SampleSpec(
        client="brightside-energy",
        name="Brightside Energie",
        country="NL",
        currency="EUR",
        timezone="Europe/Amsterdam",
        gross_margin=0.18,
        branding={"primary": "#00875A", "accent": "#FFB000"},
        style="brightside",
        default_seed=20240202,
        default_customers=7000,
        segments=(
            Segment("jong_stedelijk", 0.30, 0.85, 1350.0, 0.90),
            Segment("gezin", 0.40, 0.60, 1900.0, 1.10),
            Segment("senior", 0.20, 0.25, 1250.0, 1.00),
            Segment("zzp", 0.10, 0.65, 2300.0, 1.20),
        ),
        sources=(
            LeadSource("vergelijkingssite", 0.40, 1.00, 0.85, 15.0),
            LeadSource("zoekmachine", 0.20, 1.10, 0.80, 40.0),
            LeadSource("social", 0.15, 1.05, 0.70, 70.0),
            LeadSource("verwijzing", 0.15, 1.20, 0.75, 40.0),
            LeadSource("affiliate", 0.10, 0.30, 0.70, 75.0),
        ),
        regions=(
            "Noord-Holland", "Zuid-Holland", "Utrecht", "Noord-Brabant", "Fryslân", "Gelderland",
        ),
        canary_campaign="Brightside Warmtebonus",
        test_code="BS-NABEL-2025",
        products=("Stroom", "Gas", "Stroom + Gas"),
        cost_phone=5.10,
        cost_email=0.09,
        gamma_gamma={"p": 5.0, "q": 4.0, "gamma": 90.0},
        app_prob=0.6,
    )


BRIGHTSIDE = _brightside()

SAMPLE_CLIENTS: dict[str, SampleSpec] = {s.client: s for s in (ACME, BRIGHTSIDE)}
