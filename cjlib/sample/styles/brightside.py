"""brightside-energy: Dutch energy retailer. ';' CSV in cp1252 with Dutch column names,
dd-mm-yyyy HH:MM:SS, '€ 1.234,50', J/N booleans, tab-separated web log, Parquet contracts,
JSON-lines app events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..fmt import Text, blank_where, cat, money, pick, s, ts, where, zpad
from ..render import FileStyle, Rendered
from ..simulate import APP_EVENTS, TOUCHPOINTS
from ..spec import SampleSpec
from .common import alt, ev, mask, obj, seq

TS = "%d-%m-%Y %H:%M:%S"
ISO_OFF = "%Y-%m-%dT%H:%M:%S%z"
SEGMENTS = ("Jong stedelijk", "Gezin", "Senior", "ZZP'er")
SOURCES = ("Vergelijkingssite", "Zoekmachine", "Social media", "Verwijzing", "Affiliate")
PAGES = ("/", "/stroom", "/gas", "/tarieven", "/veelgestelde-vragen", "/contact",
         "/aanvraag/start", "/aanvraag/identificatie", "/aanvraag/bevestigd")
ACTIONS = {"page_view": "bekeken", "quote_start": "aanvraag_start",
           "id_check_started": "idin_start", "id_check_completed": "idin_gelukt"}
CATEGORIES = ("Vertraging terugbetaling", "Facturering", "Klantenservice", "Verkoop")
DESCRIPTIONS = ("Terugbetaling pas na één week ontvangen; klant is ontevreden",
                "Jaarafrekening te hoog, € 85 te veel geïnd",
                "Medewerker was onvriendelijk, graag terugbellen",
                "Product niet zoals beloofd bij de aanvraag")
TOUCH_LABELS = ("Online aanvraag", "Nabelgesprek", "Aankoop", "Terugbetaling",
                "Klachtgesprek")
NOTES = ("", "", "", "Wil graag gebeld worden na 17:00, géén e-mail", "Korting € 50 toegezegd",
         "Verhuist binnenkort naar Leeuwarden (Fryslân)")
APP_LABELS = ("login", "meterstand_doorgegeven", "factuur_bekeken", "verbruik_bekeken")
RESULT = {"answered": "beantwoord", "no_answer": "geen gehoor", "voicemail": "voicemail",
          "transferred": "doorverbonden", "abandoned": "opgehangen"}
REASON = {"sales": "Verkoop", "followup": "Nabellen", "complaint": "Klacht"}


def klantnr(pid: np.ndarray) -> Text:
    return s(pid + 3_000_001)


def email(pid: np.ndarray) -> Text:
    return cat("klant.", s(pid), "@example.", pick(pid % 3, ("net", "com", "org")))


def cookie(pid: np.ndarray) -> Text:
    return cat("bs_", s((pid * 2246822519 + 13) % 2**32), "_", s(pid))


def rekening(pid: np.ndarray) -> Text:
    return cat("BSR", zpad(pid + 1, 9))


def offerte(pid: np.ndarray) -> Text:
    return cat("OF", zpad(pid + 1, 9))


def phone(pid: np.ndarray, salt: int) -> Text:
    """Dutch mobiles: '06-12345678' national, or '+31 6 12345678' for some rows."""
    d = (pid * 7919 + 777) % 50_000_000
    body = cat(s(1 + d // 10_000_000), zpad(d % 10_000_000, 7))
    return where(alt(pid, salt, 4), cat("+31 6 ", body), cat("06-", body))


def _eur(v: np.ndarray) -> Text:
    return money(v, "€ ", ".", ",", neg_inside=True)


def styles(spec: SampleSpec, xlsx: bool) -> list[FileStyle]:
    """The ten brightside-energy exports (no XLSX in this client)."""
    tz = spec.timezone
    src_map = dict(zip(SOURCES, (x.name for x in spec.sources), strict=True))
    seg_map = dict(zip(SEGMENTS, (x.name for x in spec.segments), strict=True))
    read_csv = {"format": "csv", "delimiter": ";", "encoding": "cp1252", "decimal": ",",
                "thousands": "."}
    ts_f = {"format": TS}

    def t(x: np.ndarray) -> Text:
        return ts(x, TS, tz)

    def contacts(w: dict[str, pd.DataFrame]) -> Rendered:
        c = w["contacts"]
        p = c.pid.to_numpy()
        cols = {"KlantNr": klantnr(p), "Email": email(p), "Telefoon": phone(p, 1),
                "Segment": pick(c.segment, SEGMENTS), "Regio": pick(c.region, spec.regions),
                "Bron": pick(c.source, SOURCES), "Aangemaakt": t(c.ts),
                "Opmerking": pick(p % len(NOTES), NOTES)}
        return Rendered(cols, p, c.ts.to_numpy(), mask(crm_id=True, email=True, phone=True),
                        ev(len(p), "contact_created"))

    def quotes(w: dict[str, pd.DataFrame]) -> Rendered:
        q = w["quotes"]
        p, web = q.pid.to_numpy(), q.web.to_numpy()
        em = email(p)
        em = where(alt(p, 2, 30), cat(" ", em, " "), em)
        cols = {"OfferteNr": offerte(p), "Datum": t(q.ts),
                "Kanaal": where(web, "W", "T"), "Bron": pick(q.source, SOURCES),
                "Bedrag": _eur(q.premium), "Email": blank_where(em, ~web),
                "CookieID": blank_where(cookie(p), ~web), "KlantNr": blank_where(klantnr(p), web),
                "Product": pick(q["product"], spec.products),
                "Groen": where(alt(p, 5, 2), "J", "N")}
        return Rendered(cols, p, q.ts.to_numpy(), mask(email=web, cookie_id=web, crm_id=~web),
                        ev(len(p), "quote"))

    def calls(w: dict[str, pd.DataFrame]) -> Rendered:
        c = w["calls"]
        p = c.pid.to_numpy()
        is_q = (c.case_kind == "quote").to_numpy()
        ref = where(is_q, offerte(c.case.to_numpy()), cat("KL", zpad(c.case, 9)))
        cols = {"GesprekID": s(seq(c)), "Starttijd": t(c.ts),
                "Richting": where(c.direction == "OUT", "UIT", "IN"),
                "Telefoonnummer": phone(p, 3), "Kenmerk": ref,
                "Duur": s(c.duration_s), "Resultaat": s(c.outcome.map(RESULT)),
                "Reden": s(c.reason.map(REASON)), "Notitie": pick(p % len(NOTES), NOTES)}
        evn = where(c.direction == "OUT", "followup_call", "inbound_call")
        return Rendered(cols, p, c.ts.to_numpy(), mask(phone=True), evn)

    def orders(w: dict[str, pd.DataFrame]) -> Rendered:
        o = w["orders"]
        p = o.pid.to_numpy()
        kind = o.kind.map({"new": "nieuw", "renewal": "verlenging", "add_on": "uitbreiding"})
        cols = {"ContractNr": obj(cat("C", zpad(o.order_no, 11))), "KlantNr": obj(klantnr(p)),
                "Rekeningnummer": obj(rekening(p)), "Startdatum": o.ts.to_numpy().copy(),
                "Bedrag": o.value.to_numpy().astype(float),
                "Product": obj(pick(o["product"], spec.products)),
                "Kanaal": obj(s(o.channel)), "Soort": obj(s(kind)),
                "OfferteNr": obj(where(o.quote >= 0, offerte(p), ""))}
        return Rendered(cols, p, o.ts.to_numpy(), mask(account_no=True, crm_id=True),
                        ev(len(p), "purchase"))

    def campaign(w: dict[str, pd.DataFrame]) -> Rendered:
        e = w["emails"]
        p = e.pid.to_numpy()
        names = ("Nabellen offerte", "Opvolgtest 2025", spec.canary_campaign)
        codes = ("BS-NB", spec.test_code, "BS-WB-25")
        evmap = evmap_bs()
        assigned = (e.event == "test_assigned").to_numpy()
        cost = np.where(e.arm == "phone", spec.cost_phone, spec.cost_email)
        cols = {"Datum": t(e.ts), "Email": email(p), "Campagne": pick(e.campaign, names),
                "Code": pick(e.campaign, codes), "Actie": s(e.event.map(evmap)),
                "Arm": s(e.arm.map({"phone": "telefoon", "email": "email", "": ""})),
                "Kosten": blank_where(_eur(cost), ~assigned),
                "OfferteNr": blank_where(offerte(e.case.to_numpy()), (e.case < 0).to_numpy())}
        return Rendered(cols, p, e.ts.to_numpy(), mask(email=True), s(e.event))

    def weblog(w: dict[str, pd.DataFrame]) -> Rendered:
        x = w["web"]
        p = x.pid.to_numpy()
        cols = {"tijdstip": t(x.ts), "cookie": cookie(p), "pagina": pick(x.page, PAGES),
                "actie": s(x.action.map(ACTIONS))}
        return Rendered(cols, p, x.ts.to_numpy(), mask(cookie_id=True), s(x.action))

    def payments(w: dict[str, pd.DataFrame]) -> Rendered:
        y = w["payouts"]
        p = y.pid.to_numpy()
        paid = (y.paid_ts >= 0).to_numpy()
        cols = {"Kenmerk": cat("TB", zpad(y.case, 9)), "Rekeningnummer": rekening(p),
                "Aangevraagd": t(y.req_ts), "Uitbetaald": t(y.paid_ts),
                "Bedrag": _eur(y.amount), "Automatisch": where(y.auto, "J", "N")}
        return Rendered(cols, p, y.req_ts.to_numpy(), mask(account_no=True),
                        ev(len(p), "payout_requested"),
                        where(paid, "payout_paid", ""))

    def complaints(w: dict[str, pd.DataFrame]) -> Rendered:
        c = w["complaints"]
        p = c.pid.to_numpy()
        res = (c.resolved >= 0).to_numpy()
        cols = {"KlachtNr": cat("KL", zpad(c.case, 9)), "KlantNr": klantnr(p),
                "Geopend": t(c.opened), "Opgelost": t(c.resolved),
                "Categorie": pick(c.category, CATEGORIES),
                "Omschrijving": pick(c.category, DESCRIPTIONS)}
        return Rendered(cols, p, c.opened.to_numpy(), mask(crm_id=True),
                        ev(len(p), "complaint_opened"),
                        where(res, "complaint_resolved", ""))

    def surveys(w: dict[str, pd.DataFrame]) -> Rendered:
        v = w["surveys"]
        p, be = v.pid.to_numpy(), v.by_email.to_numpy()
        cols = {"EnqueteID": s(seq(v)), "Datum": t(v.ts),
                "Email": blank_where(email(p), ~be), "KlantNr": blank_where(klantnr(p), be),
                "Contactmoment": pick(v.touchpoint, TOUCH_LABELS), "Score": s(v.score),
                "Toelichting": where(v.score <= 4, "Te lang in de wacht, geen reactie", "")}
        return Rendered(cols, p, v.ts.to_numpy(), mask(email=be, crm_id=~be), ev(len(p), "survey"))

    def app(w: dict[str, pd.DataFrame]) -> Rendered:
        a = w["app"]
        p = a.pid.to_numpy()
        cols = {"timestamp": ts(a.ts, ISO_OFF, tz), "rekeningnummer": rekening(p),
                "event": pick(a.event, APP_LABELS),
                "platform": where(alt(p, 7, 2), "ios", "android")}
        return Rendered(cols, p, a.ts.to_numpy(), mask(account_no=True),
                        pick(a.event, APP_EVENTS))

    kw = {"delimiter": ";", "encoding": "cp1252", "bad_ts": "32-13-2024 25:61:00",
          "newline": "\r\n"}
    return [
        FileStyle("klanten.csv", "klanten", "contacts", "csv", contacts, {
            "read": read_csv,
            "fields": {"crm_id": "KlantNr", "email": "Email", "phone": "Telefoon",
                       "ts": {"column": "Aangemaakt", **ts_f},
                       "segment": {"column": "Segment", "map": seg_map}, "region": "Regio",
                       "source": {"column": "Bron", "map": src_map}},
            "event": "contact_created", "attrs": {"notes": "Opmerking"}},
            "Aangemaakt", t, id_cols=("KlantNr", "Email", "Telefoon"), phone_col="Telefoon",
            text_col="Opmerking", **kw),
        FileStyle("offertes.csv", "offertes", "quotes", "csv", quotes, {
            "read": read_csv,
            "fields": {"case_id": "OfferteNr", "ts": {"column": "Datum", **ts_f},
                       "channel": {"column": "Kanaal", "map": {"W": "web", "T": "phone"}},
                       "source": {"column": "Bron", "map": src_map},
                       "value": {"column": "Bedrag", "type": "money"}, "email": "Email",
                       "cookie_id": "CookieID", "crm_id": "KlantNr"},
            "event": "quote",
            "attrs": {"product": "Product",
                      "green": {"column": "Groen", "type": "bool", "true": ["J"],
                                "false": ["N"]}}},
            "Datum", t, money_col="Bedrag", money_fmt=_eur,
            id_cols=("Email", "CookieID", "KlantNr"), **kw),
        FileStyle("gesprekken.csv", "gesprekken", "calls", "csv", calls, {
            "read": read_csv,
            "fields": {"ts": {"column": "Starttijd", **ts_f}, "phone": "Telefoonnummer",
                       "case_id": "Kenmerk", "duration_s": {"column": "Duur",
                                                            "type": "duration"},
                       "outcome": {"column": "Resultaat", "map": {v: k for k, v in
                                                                  RESULT.items()}}},
            "event": {"column": "Richting", "map": {"UIT": "followup_call",
                                                    "IN": "inbound_call"}, "strict_map": True},
            "attrs": {"direction": {"column": "Richting", "map": {"UIT": "OUT", "IN": "IN"}},
                      "reason": {"column": "Reden", "map": {v: k for k, v in REASON.items()}},
                      "notes": "Notitie"}},
            "Starttijd", t, id_cols=("Telefoonnummer",), phone_col="Telefoonnummer",
            text_col="Notitie", **kw),
        FileStyle("contracten.parquet", "contracten", "orders", "parquet", orders, {
            "read": {"format": "parquet", "tz": "UTC"},
            "fields": {"case_id": "ContractNr", "crm_id": "KlantNr",
                       "account_no": "Rekeningnummer", "ts": "Startdatum",
                       "value": {"column": "Bedrag", "type": "money"}, "channel": "Kanaal"},
            "event": "purchase",
            "attrs": {"product": "Product", "order_type": "Soort", "quote_ref": "OfferteNr"}},
            "Startdatum", money_col="Bedrag", id_cols=("KlantNr", "Rekeningnummer"),
            parquet_schema={"ContractNr": pa.string(), "KlantNr": pa.string(),
                            "Rekeningnummer": pa.string(),
                            "Startdatum": pa.timestamp("s", tz="UTC"), "Bedrag": pa.float64(),
                            "Product": pa.string(), "Kanaal": pa.string(), "Soort": pa.string(),
                            "OfferteNr": pa.string()}),
        FileStyle("campagne_resultaten.csv", "campagne", "email", "csv", campaign, {
            "read": read_csv,
            "fields": {"ts": {"column": "Datum", **ts_f}, "email": "Email",
                       "case_id": "OfferteNr", "cost": {"column": "Kosten", "type": "money"},
                       "source": "Code"},
            "event": {"column": "Actie", "map": {v: k for k, v in evmap_bs().items()},
                      "strict_map": True},
            "attrs": {"campaign": "Campagne", "campaign_code": "Code",
                      "arm": {"column": "Arm", "map": {"telefoon": "phone", "email": "email"}}}},
            "Datum", t, money_col="Kosten", money_fmt=_eur, id_cols=("Email",), **kw),
        FileStyle("weblog.tsv", "weblog", "web", "csv", weblog, {
            "read": {"format": "csv", "delimiter": "\t", "encoding": "utf-8"},
            "fields": {"ts": {"column": "tijdstip", **ts_f}, "cookie_id": "cookie"},
            "event": {"column": "actie", "map": {v: k for k, v in ACTIONS.items()},
                      "strict_map": True},
            "attrs": {"page": "pagina"}},
            "tijdstip", t, bad_ts="32-13-2024 25:61:00", id_cols=("cookie",), delimiter="\t"),
        FileStyle("terugbetalingen.csv", "terugbetalingen", "payments", "csv", payments, {
            "read": read_csv,
            "fields": {"case_id": "Kenmerk", "account_no": "Rekeningnummer",
                       "value": {"column": "Bedrag", "type": "money"}},
            "events": [
                {"event": "payout_requested", "ts": {"column": "Aangevraagd", **ts_f}},
                {"event": "payout_paid", "ts": {"column": "Uitbetaald", **ts_f},
                 "optional": True}],
            "attrs": {"automatic": {"column": "Automatisch", "type": "bool", "true": ["J"],
                                    "false": ["N"]}}},
            "Aangevraagd", t, money_col="Bedrag", money_fmt=_eur,
            id_cols=("Rekeningnummer",), **kw),
        FileStyle("klachten.csv", "klachten", "complaints", "csv", complaints, {
            "read": read_csv,
            "fields": {"case_id": "KlachtNr", "crm_id": "KlantNr"},
            "events": [
                {"event": "complaint_opened", "ts": {"column": "Geopend", **ts_f}},
                {"event": "complaint_resolved", "ts": {"column": "Opgelost", **ts_f},
                 "optional": True}],
            "attrs": {"category": "Categorie", "description": "Omschrijving"}},
            "Geopend", t, id_cols=("KlantNr",), text_col="Omschrijving", **kw),
        FileStyle("enquetes.csv", "enquetes", "surveys", "csv", surveys, {
            "read": read_csv,
            "fields": {"ts": {"column": "Datum", **ts_f}, "email": "Email", "crm_id": "KlantNr",
                       "score": {"column": "Score", "type": "number"}},
            "event": "survey",
            "attrs": {"touchpoint": {"column": "Contactmoment", "map": dict(
                zip(TOUCH_LABELS, TOUCHPOINTS, strict=True))}, "comment": "Toelichting"}},
            "Datum", t, id_cols=("Email", "KlantNr"), text_col="Toelichting", **kw),
        FileStyle("app_events.jsonl", "app", "events", "jsonl", app, {
            "read": {"format": "jsonl"},
            "fields": {"ts": {"column": "timestamp", "format": "auto"},
                       "account_no": "rekeningnummer", "channel": {"value": "app"}},
            "event": {"column": "event", "map": dict(zip(APP_LABELS, APP_EVENTS, strict=True)),
                      "strict_map": True},
            "attrs": {"platform": "platform"}},
            "timestamp", lambda x: ts(x, ISO_OFF, tz), bad_ts="2024-02-30T25:61:00+01:00",
            id_cols=("rekeningnummer",)),
    ]


def evmap_bs() -> dict[str, str]:
    """Canonical email event -> Dutch export label."""
    return {"email_sent": "verzonden", "email_opened": "geopend", "email_clicked": "geklikt",
            "followup_email": "opvolgmail", "test_assigned": "toegewezen"}
