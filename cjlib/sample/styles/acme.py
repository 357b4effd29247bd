"""acme-motor: UK motor insurer. BOM comma CSV, dd/mm/yyyy, £1,234.50, XLSX calls, Parquet orders,
JSON-lines campaign responses, ISO-UTC web log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..fmt import Text, blank_where, cat, hms, money, pick, s, ts, where, zpad
from ..render import FileStyle, Rendered
from ..simulate import APP_EVENTS, TOUCHPOINTS  # noqa: F401  (vocabulary reference)
from ..spec import SampleSpec
from .common import alt, ev, mask, obj, seq

TS = "%d/%m/%Y %H:%M"
TS_CALL = "%d/%m/%Y %H:%M:%S"
ISO = "%Y-%m-%dT%H:%M:%SZ"
SEGMENTS = ("Young Urban", "Family", "Retired", "Small Business")
SOURCES = ("Comparison Site", "Search", "Social", "Referral", "Affiliate")
PAGES = ("/", "/car-insurance", "/car-insurance/cover", "/faq", "/reviews", "/contact",
         "/quote/start", "/quote/verify", "/quote/verified")
ACTIONS = {"page_view": "pageview", "quote_start": "quote_start",
           "id_check_started": "idv_start", "id_check_completed": "idv_complete"}
CATEGORIES = ("Claim payment delay", "Billing", "Customer service", "Sales process")
DESCRIPTIONS = ('Claim paid late, customer says "still waiting" for the money',
                "Direct debit taken twice, refund requested",
                "Agent was rude; asked for a call back", "Mis-sold add-on, wants it removed")
TOUCH_LABELS = ("Online quote", "Follow-up call", "Purchase", "Claim payout", "Complaint call")
NOTES = ("", "", "", "Prefers email, call after 5pm", "Spoke to spouse", "Renewal due; keen")


def crm(pid: np.ndarray) -> Text:
    return cat("AM", zpad(pid + 1, 7))


def email(pid: np.ndarray) -> Text:
    return cat("driver", s(pid), "@example.", pick(pid % 3, ("com", "org", "net")))


def cookie(pid: np.ndarray) -> Text:
    return cat("GA1.2.", s((pid * 2654435761 + 97) % 2**31), ".", s(1700000000 + pid))


def policy(pid: np.ndarray) -> Text:
    return cat("POL-", zpad(pid + 100000, 8))


def quote_ref(pid: np.ndarray) -> Text:
    return cat("AMQ-", zpad(pid + 1, 8))


def phone(pid: np.ndarray, salt: int) -> Text:
    """UK mobiles: '07700 900123' national, or '+44 7700 900123' for some rows."""
    d = (pid * 7919 + 12345) % 500_000_000
    lead = pick(d // 100_000_000, ("4", "5", "7", "8", "9"))
    a, b = zpad(d // 1_000_000 % 100, 2), zpad(d % 1_000_000, 6)
    nat = cat("07", lead, a, " ", b)
    intl = cat("+44 7", lead, a, " ", b)
    return where(alt(pid, salt, 5), intl, nat)


def _gbp(v: np.ndarray) -> Text:
    return money(v, "£", ",", ".", neg_inside=False)


def styles(spec: SampleSpec, xlsx: bool) -> list[FileStyle]:
    """The nine acme-motor exports."""
    tz = spec.timezone
    src_map = dict(zip(SOURCES, (x.name for x in spec.sources), strict=True))
    seg_map = dict(zip(SEGMENTS, (x.name for x in spec.segments), strict=True))
    read_csv = {"format": "csv", "delimiter": ",", "encoding": "utf-8"}

    def t(x: np.ndarray) -> Text:
        return ts(x, TS, tz)

    def contacts(w: dict[str, pd.DataFrame]) -> Rendered:
        c = w["contacts"]
        p = c.pid.to_numpy()
        cols = {"CustomerRef": crm(p), "Email": email(p), "Mobile": phone(p, 1),
                "Segment": pick(c.segment, SEGMENTS), "Region": pick(c.region, spec.regions),
                "LeadSource": pick(c.source, SOURCES), "CreatedDate": t(c.ts),
                "Notes": pick(p % len(NOTES), NOTES)}
        return Rendered(cols, p, c.ts.to_numpy(), mask(crm_id=True, email=True, phone=True),
                        ev(len(p), "contact_created"))

    def quotes(w: dict[str, pd.DataFrame]) -> Rendered:
        q = w["quotes"]
        p, web = q.pid.to_numpy(), q.web.to_numpy()
        em = email(p)
        em = where(alt(p, 2, 25), pc.utf8_upper(em), em)
        cols = {"QuoteRef": quote_ref(p), "QuoteDate": t(q.ts),
                "Channel": where(web, "Web", "Phone"),
                "LeadSource": pick(q.source, SOURCES), "Premium": _gbp(q.premium),
                "Email": blank_where(em, ~web), "CookieID": blank_where(cookie(p), ~web),
                "CustomerRef": blank_where(crm(p), web), "Product": pick(q["product"],
                                                                         spec.products)}
        return Rendered(cols, p, q.ts.to_numpy(), mask(email=web, cookie_id=web, crm_id=~web),
                        ev(len(p), "quote"))

    def calls(w: dict[str, pd.DataFrame]) -> Rendered:
        c = w["calls"]
        p = c.pid.to_numpy()
        is_q = (c.case_kind == "quote").to_numpy()
        ref = where(is_q, quote_ref(c.case.to_numpy()), cat("CMP-", zpad(c.case, 8)))
        cols = {"CallID": cat("CL", zpad(seq(c), 11)), "CallStart": ts(c.ts, TS_CALL, tz),
                "Direction": s(c.direction), "PhoneNumber": phone(p, 3),
                "Reference": ref, "Duration": hms(c.duration_s),
                "Outcome": s(c.outcome), "Reason": s(c.reason),
                "Notes": pick(p % len(NOTES), NOTES)}
        evn = where(c.direction == "OUT", "followup_call", "inbound_call")
        return Rendered(cols, p, c.ts.to_numpy(), mask(phone=True), evn)

    def orders(w: dict[str, pd.DataFrame]) -> Rendered:
        o = w["orders"]
        p = o.pid.to_numpy()
        qr = where(o.quote >= 0, quote_ref(p), "")
        cols = {"OrderID": obj(cat("ORD-", zpad(o.order_no, 10))), "PolicyNo": obj(policy(p)),
                "CustomerRef": obj(crm(p)), "OrderDate": o.ts.to_numpy().copy(),
                "Amount": o.value.to_numpy().astype(float), "Product": obj(pick(
                    o["product"], spec.products)), "Channel": obj(s(o.channel)),
                "OrderType": obj(s(o.kind)), "QuoteRef": obj(qr)}
        return Rendered(cols, p, o.ts.to_numpy(), mask(account_no=True, crm_id=True),
                        ev(len(p), "purchase"))

    def campaign(w: dict[str, pd.DataFrame]) -> Rendered:
        e = w["emails"]
        p = e.pid.to_numpy()
        names = ("Quote follow-up", "Follow-up test 2025", spec.canary_campaign)
        codes = ("ACME-FU", spec.test_code, "ACME-SS-25")
        evmap = {"email_sent": "sent", "email_opened": "open", "email_clicked": "click",
                 "followup_email": "followup", "test_assigned": "assigned"}
        assigned = (e.event == "test_assigned").to_numpy()
        cost = np.where(e.arm == "phone", spec.cost_phone, spec.cost_email)
        cols = {"timestamp": ts(e.ts, ISO), "email": email(p),
                "campaign": pick(e.campaign, names), "campaign_code": pick(e.campaign, codes),
                "event": s(e.event.map(evmap)), "arm": s(e.arm),
                "cost": blank_where(s(np.round(cost, 2)), ~assigned),
                "quote_ref": blank_where(quote_ref(e.case.to_numpy()), (e.case < 0).to_numpy())}
        return Rendered(cols, p, e.ts.to_numpy(), mask(email=True), s(e.event))

    def weblog(w: dict[str, pd.DataFrame]) -> Rendered:
        x = w["web"]
        p = x.pid.to_numpy()
        cols = {"timestamp": ts(x.ts, ISO), "cookie_id": cookie(p),
                "page_url": pick(x.page, PAGES), "action": s(x.action.map(ACTIONS))}
        return Rendered(cols, p, x.ts.to_numpy(), mask(cookie_id=True), s(x.action))

    def payments(w: dict[str, pd.DataFrame]) -> Rendered:
        y = w["payouts"]
        p = y.pid.to_numpy()
        paid = (y.paid_ts >= 0).to_numpy()
        cols = {"ClaimRef": cat("CLM-", zpad(y.case, 8)), "PolicyNo": policy(p),
                "RequestedDate": t(y.req_ts), "PaidDate": t(y.paid_ts),
                "Amount": _gbp(y.amount), "Method": where(y.auto, "BACS", "Cheque")}
        return Rendered(cols, p, y.req_ts.to_numpy(), mask(account_no=True),
                        ev(len(p), "payout_requested"),
                        where(paid, "payout_paid", ""))

    def complaints(w: dict[str, pd.DataFrame]) -> Rendered:
        c = w["complaints"]
        p = c.pid.to_numpy()
        res = (c.resolved >= 0).to_numpy()
        cols = {"ComplaintRef": cat("CMP-", zpad(c.case, 8)), "CustomerRef": crm(p),
                "Opened": t(c.opened), "Resolved": t(c.resolved),
                "Category": pick(c.category, CATEGORIES),
                "Description": pick(c.category, DESCRIPTIONS)}
        return Rendered(cols, p, c.opened.to_numpy(), mask(crm_id=True),
                        ev(len(p), "complaint_opened"),
                        where(res, "complaint_resolved", ""))

    def surveys(w: dict[str, pd.DataFrame]) -> Rendered:
        v = w["surveys"]
        p, be = v.pid.to_numpy(), v.by_email.to_numpy()
        cols = {"ResponseID": cat("SR", zpad(seq(v), 11)), "SubmittedAt": t(v.ts),
                "Email": blank_where(email(p), ~be), "CustomerRef": blank_where(crm(p), be),
                "Touchpoint": pick(v.touchpoint, TOUCH_LABELS), "Score": s(v.score),
                "Comment": where(v.score <= 4, "Too long on hold, had to repeat myself", "")}
        return Rendered(cols, p, v.ts.to_numpy(), mask(email=be, crm_id=~be), ev(len(p), "survey"))

    ts_f = {"format": TS}
    calls_file = "calls.xlsx" if xlsx else "calls.csv"
    calls_read = {"format": "xlsx", "sheet": "Calls"} if xlsx else dict(read_csv)
    return [
        FileStyle("contacts.csv", "contacts", "contacts", "csv", contacts, {
            "read": read_csv,
            "fields": {"crm_id": "CustomerRef", "email": "Email", "phone": "Mobile",
                       "ts": {"column": "CreatedDate", **ts_f},
                       "segment": {"column": "Segment", "map": seg_map},
                       "region": "Region", "source": {"column": "LeadSource", "map": src_map}},
            "event": "contact_created", "attrs": {"notes": "Notes"}},
            "CreatedDate", t, id_cols=("CustomerRef", "Email", "Mobile"), phone_col="Mobile",
            text_col="Notes", bom=True, newline="\r\n"),
        FileStyle("quotes.csv", "quotes", "quotes", "csv", quotes, {
            "read": read_csv,
            "fields": {"case_id": "QuoteRef", "ts": {"column": "QuoteDate", **ts_f},
                       "channel": {"column": "Channel", "map": {"Web": "web", "Phone": "phone"}},
                       "source": {"column": "LeadSource", "map": src_map},
                       "value": {"column": "Premium", "type": "money"}, "email": "Email",
                       "cookie_id": "CookieID", "crm_id": "CustomerRef"},
            "event": "quote", "attrs": {"product": "Product"}},
            "QuoteDate", t, money_col="Premium", money_fmt=_gbp,
            id_cols=("Email", "CookieID", "CustomerRef"), bom=True, newline="\r\n"),
        FileStyle(calls_file, "calls", "calls", "xlsx" if xlsx else "csv", calls, {
            "read": calls_read,
            "fields": {"ts": {"column": "CallStart", "format": TS_CALL}, "phone": "PhoneNumber",
                       "case_id": "Reference", "duration_s": {"column": "Duration",
                                                              "type": "duration"},
                       "outcome": "Outcome"},
            "event": {"column": "Direction", "map": {"OUT": "followup_call",
                                                     "IN": "inbound_call"}, "strict_map": True},
            "attrs": {"direction": "Direction", "reason": "Reason", "call_id": "CallID",
                      "notes": "Notes"}},
            "CallStart", lambda x: ts(x, TS_CALL, tz), id_cols=("PhoneNumber",),
            phone_col="PhoneNumber", text_col="Notes", sheet="Calls", bom=True,
            newline="\r\n"),
        FileStyle("orders.parquet", "orders", "orders", "parquet", orders, {
            "read": {"format": "parquet", "tz": "UTC"},
            "fields": {"case_id": "OrderID", "account_no": "PolicyNo", "crm_id": "CustomerRef",
                       "ts": "OrderDate", "value": {"column": "Amount", "type": "money"},
                       "channel": "Channel"},
            "event": "purchase",
            "attrs": {"product": "Product", "order_type": "OrderType", "quote_ref": "QuoteRef"}},
            "OrderDate", money_col="Amount", id_cols=("PolicyNo", "CustomerRef"),
            parquet_schema={"OrderID": pa.string(), "PolicyNo": pa.string(),
                            "CustomerRef": pa.string(), "OrderDate": pa.timestamp("s", tz="UTC"),
                            "Amount": pa.float64(), "Product": pa.string(),
                            "Channel": pa.string(), "OrderType": pa.string(),
                            "QuoteRef": pa.string()}),
        FileStyle("campaign_responses.jsonl", "campaign", "email", "jsonl", campaign, {
            "read": {"format": "jsonl", "tz": "UTC"},
            "fields": {"ts": {"column": "timestamp", "format": "auto"}, "email": "email",
                       "case_id": "quote_ref", "cost": {"column": "cost", "type": "money"},
                       "source": "campaign_code"},
            "event": {"column": "event", "map": {
                "sent": "email_sent", "open": "email_opened", "click": "email_clicked",
                "followup": "followup_email", "assigned": "test_assigned"}, "strict_map": True},
            "attrs": {"campaign": "campaign", "campaign_code": "campaign_code", "arm": "arm"}},
            "timestamp", lambda x: ts(x, ISO), bad_ts="2024-02-30T25:61:00Z", money_col="cost",
            id_cols=("email",), numeric_cols=("cost",)),
        FileStyle("weblog.csv", "web", "web", "csv", weblog, {
            "read": {"format": "csv", "delimiter": ",", "tz": "UTC"},
            "fields": {"ts": {"column": "timestamp", "format": "auto"},
                       "cookie_id": "cookie_id"},
            "event": {"column": "action", "map": {v: k for k, v in ACTIONS.items()},
                      "strict_map": True},
            "attrs": {"page": "page_url"}},
            "timestamp", lambda x: ts(x, ISO), bad_ts="2024-02-30T25:61:00Z",
            id_cols=("cookie_id",)),
        FileStyle("claims_payments.csv", "payments", "payments", "csv", payments, {
            "read": read_csv,
            "fields": {"case_id": "ClaimRef", "account_no": "PolicyNo",
                       "value": {"column": "Amount", "type": "money"}},
            "events": [
                {"event": "payout_requested", "ts": {"column": "RequestedDate", **ts_f}},
                {"event": "payout_paid", "ts": {"column": "PaidDate", **ts_f},
                 "optional": True}],
            "attrs": {"method": "Method"}},
            "RequestedDate", t, money_col="Amount", money_fmt=_gbp, id_cols=("PolicyNo",),
            bom=True, newline="\r\n"),
        FileStyle("complaints.csv", "complaints", "complaints", "csv", complaints, {
            "read": read_csv,
            "fields": {"case_id": "ComplaintRef", "crm_id": "CustomerRef"},
            "events": [
                {"event": "complaint_opened", "ts": {"column": "Opened", **ts_f}},
                {"event": "complaint_resolved", "ts": {"column": "Resolved", **ts_f},
                 "optional": True}],
            "attrs": {"category": "Category", "description": "Description"}},
            "Opened", t, id_cols=("CustomerRef",), text_col="Description", bom=True,
            newline="\r\n"),
        FileStyle("surveys.csv", "surveys", "surveys", "csv", surveys, {
            "read": read_csv,
            "fields": {"ts": {"column": "SubmittedAt", **ts_f}, "email": "Email",
                       "crm_id": "CustomerRef", "score": {"column": "Score", "type": "number"}},
            "event": "survey",
            "attrs": {"touchpoint": {"column": "Touchpoint", "map": dict(
                zip(TOUCH_LABELS, TOUCHPOINTS, strict=True))}, "comment": "Comment"}},
            "SubmittedAt", t, id_cols=("Email", "CustomerRef"), text_col="Comment", bom=True,
            newline="\r\n", truncate_last=True),
    ]
