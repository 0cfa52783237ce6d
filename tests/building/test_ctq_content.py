"""Commitment to Quality drafts, read back from the .docx: a physical, a virtual and a grouped exchange (issue 14)."""

from __future__ import annotations

import html
import shutil

import pytest
from conftest import HOSTILE

from matchmaker.building.activities import RECOMMENDED, plan_rows
from matchmaker.building.ctq import CtqError, ctq_drafts, rendered, write_draft, write_drafts
from matchmaker.building.ctq_docx import docx_bytes, docx_text
from matchmaker.building.ctq_html import html_text
from matchmaker.building.draft import CtqDraft, Paragraph, file_stem, text
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.ec_draw import ec_draw
from matchmaker.ledger.store import Ledger


@pytest.fixture
def drafts(ctq_round):
    d, _ = ctq_round
    return {(x.visitor_id, x.host_id): x for x in ctq_drafts(d)}


def _read_back(draft, tmp_path) -> str:
    docx_path, html_path = write_draft(draft, tmp_path / "drafts")
    assert docx_path.name == f"ctq_{draft.visitor_id}_{draft.host_id}.docx" and html_path.suffix == ".html"
    return docx_text(docx_path)


def test_only_accepted_or_locked_pairs_get_a_draft(drafts):
    assert sorted(drafts) == [("V001", "H001"), ("V002", "H001"), ("V003", "H002"), ("V004", "H002")]
    assert drafts[("V003", "H002")].status == "locked" and drafts[("V001", "H001")].status == "accepted"


def test_physical_individual_draft_read_back(drafts, tmp_path):
    draft = drafts[("V001", "H001")]
    assert (draft.mode, draft.form) == ("physical", "individual")
    text = _read_back(draft, tmp_path)
    # both organisations, their countries (names) and Partnerships
    assert "Host (receives the visitor) | Citeve Porto (H001) | Porto, Portugal | CLAMTEX" in text
    assert "Visitor (travels) | Clúster Textil Valencià (V001) | Valencia, Spain | CLAMTEX" in text
    assert "Physical exchange: the visitor travels to the host's premises in Portugal." in text
    assert "Individual: one visitor at the host at a time." in text
    # dates and working days
    assert "5 working days in a row on site, 1 Mar 2027 to 5 Mar 2027." in text
    assert "from Mon 1 Mar 2027 to Fri 5 Mar 2027; travel days are not counted" in text
    # shared objectives only (V001: new_markets, green_transition; H001: new_markets, new_technologies)
    assert "Explore growth opportunities in new markets" in text
    assert "Green and low-carbon solutions" not in text.split("3. Type of exchange")[0]
    # the action plan: the activities both chose (networking, marketing; not shadowing), with FAQ q.10's wording
    assert "days 2-3 (Tue 2 Mar 2027 to Wed 3 Mar 2027) | Networking, finding partners and business opportunities | " \
           f"{RECOMMENDED['networking'][0]}" in text
    assert f"day 4 (Thu 4 Mar 2027) | Branding, sales and marketing | {RECOMMENDED['marketing'][0]}" in text
    assert "Shadowing the host" not in text
    assert "A view of the growth opportunities in the other's market, and contacts to enter it." in text
    # the lump sum and who pays it
    assert "EUR 780.00 for the visitor (the full lump sum for a host in Portugal), paid by the visitor's " \
           "Partnership CLAMTEX from its budget" in text
    # the rules and the signatures, one Partnership for both
    assert "The exchange lasts at least 3 working days and at most one month (22 working days)" in text
    for role in ("Host | Citeve Porto (H001)", "Visitor | Clúster Textil Valencià (V001)",
                 "Partnership in charge of both | CLAMTEX", "ClusterXchange Support Office (validation)",
                 "European Commission services (only if the exchange is drawn for random EC validation)"):
        assert role in text
    assert "[to complete: contact person, e-mail, phone]" in text and "[to complete: name and function]" in text


def test_virtual_draft_has_the_x_days_in_x_weeks_rule_and_no_lump_sum(drafts, tmp_path):
    draft = drafts[("V002", "H001")]
    assert (draft.mode, draft.form) == ("virtual", "individual")
    text = _read_back(draft, tmp_path)
    assert "Virtual exchange: online, with no travel." in text
    assert "5 days online, one a week for 5 weeks, 4 Mar 2027 to 7 Apr 2027." in text
    assert '"x days in x weeks": the 5 days need not be consecutive, but they must all be completed within 5 ' \
           "consecutive weeks, here from Thu 4 Mar 2027 to Wed 7 Apr 2027" in text
    assert "None: a virtual exchange has no lump sum." in text and "EUR " not in text
    assert f"weeks 2-3 | Market research | {RECOMMENDED['market_research'][1]}" in text
    assert "Visitor (online) | " in text
    # two Partnerships: the visitor's (BLUES) and the host's (CLAMTEX) both sign
    assert "Visitor's Partnership | BLUES" in text and "Host's Partnership | CLAMTEX" in text


def test_grouped_draft_names_the_other_visitor_and_the_halved_lump_sum(drafts, tmp_path):
    locked, accepted = drafts[("V003", "H002")], drafts[("V004", "H002")]
    assert locked.form == accepted.form == "grouped"
    text = _read_back(accepted, tmp_path)
    assert "Grouped: the host receives 2 visitors at the same time; the other visitor(s) with an accepted or " \
           "locked exchange on overlapping dates: Berlin Water Hub (V003)." in text
    assert "EUR 450.00 for the visitor (reduced from EUR 900.00 for a host in Italy: the stay is shorter than 5 " \
           "working days), paid by the visitor's Partnership CLAMTEX" in text
    assert "Visitor's Partnership (pays the lump sum) | CLAMTEX" in text and "Host's Partnership | BRILLIANT" in text
    assert "pair locked (kept in every round) by office in round 1" in _read_back(locked, tmp_path)


def test_parts_to_finish_are_marked(drafts):
    todo = drafts[("V001", "H001")].to_complete()
    assert "the concrete results both sides expect, and how the visitor's closing report will show them" in todo
    assert "travel days and arrival and departure times" in todo
    assert all(t.strip() for t in todo)


def test_hostile_name_is_escaped_in_html_and_kept_as_text_in_docx(drafts, tmp_path):
    draft = drafts[("V002", "H001")]
    page = html_text(draft)
    assert "<script>" not in page and html.escape(HOSTILE, quote=True) in page
    assert "<mark>[to complete: " in page and page.count("<table>") == 3
    assert HOSTILE in _read_back(draft, tmp_path)


def test_docx_is_reproducible(drafts):
    draft = drafts[("V004", "H002")]
    assert docx_bytes(draft) == docx_bytes(draft)


def test_ec_drawn_pair_gets_the_ec_signature_line(ctq_round):
    d, _ = ctq_round
    drawn = ctq_drafts(d, [("V001", "H001")], ec_drawn={("V001", "H001"): True})[0]
    not_drawn = ctq_drafts(d, [("V001", "H001")], ec_drawn={("V001", "H001"): False})[0]
    assert "European Commission services (drawn for random EC validation)" in docx_text(docx_bytes(drawn))
    assert "European Commission" not in docx_text(docx_bytes(not_drawn)).split("9. Signatures")[-1]


def test_a_pair_not_accepted_or_locked_is_refused_with_its_state(ctq_round):
    d, _ = ctq_round
    with pytest.raises(CtqError, match=r"pair \(visitor V005, host H003\) is proposed.*accept it first"):
        ctq_drafts(d, [("V005", "H003")])
    with pytest.raises(CtqError, match=r"visitor V009, host H001\) is not in the list of round 1"):
        ctq_drafts(d, [("V009", "H001")])


def test_a_file_that_differs_is_never_replaced_without_force(drafts, tmp_path):
    folder = tmp_path / "drafts"
    all_drafts = list(drafts.values())
    first = write_drafts(all_drafts, folder)
    assert len(first.new) == 8 and not first.replaced
    again = write_drafts(all_drafts, folder)
    assert len(again.unchanged) == 8 and not again.new
    edited = folder / "ctq_V001_H001.docx"
    edited.write_bytes(b"signed by hand")
    other = folder / "ctq_V004_H002.html"
    other.unlink()
    with pytest.raises(CtqError, match=r"1 draft file\(s\) differ.*ctq_V001_H001.docx.*Nothing was written"):
        write_drafts(all_drafts, folder)
    assert edited.read_bytes() == b"signed by hand" and not other.exists()
    forced = write_drafts(all_drafts, folder, force=True)
    assert forced.replaced == [edited] and forced.new == [other] and len(forced.unchanged) == 6


def test_file_names_from_ids_never_collide():
    assert file_stem("ORG-0001", "ORG-0002") == "ctq_ORG-0001_ORG-0002"
    assert file_stem("V_1", "H") != file_stem("V", "1_H")
    assert file_stem("../x", "H").startswith("ctq_..-x_H_") and "/" not in file_stem("a/b", "c")


def test_plan_rows_share_days_when_activities_outnumber_them():
    rows = plan_rows(["a", "b", "c", "d"], 3)
    assert rows[0] == (1, 1, None) and rows[-1] == (3, 3, None)
    assert [r[:2] for r in rows[1:-1]] == [(2, 2)] * 4


def test_loaded_round_and_open_ledger_give_the_same_drafts(ctq_round):
    d, url = ctq_round
    with Ledger(url) as led:
        loaded = ctq_drafts((load_round(d), led), [("V002", "H001")])
    assert [docx_bytes(x) for x in loaded] == [docx_bytes(x) for x in ctq_drafts(d, [("V002", "H001")])]


def test_the_ledgers_ec_draw_decides_the_ec_signature_line(ctq_round, tmp_path):
    d = shutil.copytree(ctq_round[0], tmp_path / "round")
    with Ledger(f"sqlite:///{d / 'ledger.sqlite'}") as led:
        draw = ec_draw(led, share=0.5, seed=7, by_partnership=False, by="office")
    drawn = set(zip(draw.drawn["visitor_id"], draw.drawn["host_id"]))
    assert 0 < len(drawn) < 4
    for draft in ctq_drafts(d):
        signatures = docx_text(docx_bytes(draft)).split("9. Signatures")[-1]
        assert ("European Commission services (drawn for random EC validation)" in signatures) \
            == ((draft.visitor_id, draft.host_id) in drawn)
        assert "only if the exchange is drawn" not in signatures


def test_control_characters_in_a_name_do_not_break_the_documents():
    draft = CtqDraft("V\x01", "H", "accepted", 1, "physical", "individual", "Tab\tand\x0bvertical tab",
                     (Paragraph(text("Nul\x00 and \ud800 surrogate")),))
    files = rendered(draft)
    assert "Nul\ufffd and \ufffd surrogate" in docx_text(files[".docx"])
    assert "Nul\ufffd and \ufffd surrogate" in files[".html"].decode("utf-8")
    assert "/" not in draft.file_stem and "\x01" not in draft.file_stem


def test_a_registration_gone_from_the_files_is_said_and_left_to_complete(ctq_round):
    d, url = ctq_round
    rnd = load_round(d)
    rnd.visitors = rnd.visitors[rnd.visitors["org_id"] != "V001"].reset_index(drop=True)
    rnd.hosts = rnd.hosts[rnd.hosts["org_id"] != "H001"].reset_index(drop=True)
    with Ledger(url) as led:
        draft = ctq_drafts((rnd, led), [("V001", "H001")])[0]
    body = docx_text(docx_bytes(draft))
    assert "The registration of the host (H001) and of the visitor (V001) is no longer in the round's files" in body
    assert "The registrations give no activity both sides chose. [to complete: the activities both sides agree on]" \
        in body
    row = "days 2-4 (Tue 2 Mar 2027 to Thu 4 Mar 2027) | [to complete: the activity] | "
    assert row + RECOMMENDED["shadowing"][0] in body
    assert "Host's Partnership | [to complete: the Partnership]" in body
    assert "Visitor's Partnership (pays the lump sum) | CLAMTEX" in body
