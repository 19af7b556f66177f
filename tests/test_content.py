"""Content: what residents read is complete, sourced, within LINE's limits, and `content check`
catches each way an editor can break it."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from flask import Flask
from linebot.v3.messaging import FlexContainer, FlexMessage, Message

from bot import messages as msg
from bot import validate
from bot.content import CONTENT_DIR, ContentError, load_content, load_contents
from bot.content.check import check_content, contract_intents
from bot.content.cli import content_cli
from bot.fmt import visible_length

SHARED_CONTRACT = CONTENT_DIR.parent.parent / "shared" / "contracts" / "intents.yaml"
FLOWS = {"pledge_start", "pledge_status", "pledge_cancel", "community_stats", "set_district",
         "broadcast_optout", "broadcast_optin", "privacy", "out_of_scope"}
INFORMATIONAL = ["climate_basics", "climate_causes", "climate_effects", "climate_solutions", "ghg_footprint",
                 "haze_pm25", "campaign_about", "campaign_measures", "campaign_adaptation", "tips_energy",
                 "tips_transport", "tips_waste", "tips_food_farming", "tips_forest_trees"]
# Fixed by INTERFACES.md: the NLU, pledges and campaign audiences use these ids.
ACTION_IDS = ["ac_plus_one", "led_lighting", "unplug_standby", "solar_rooftop", "cook_efficient",
              "public_transport", "cycle_walk", "carpool", "eco_driving",
              "sort_waste", "compost_food_waste", "refuse_plastic",
              "no_crop_burning", "reduce_food_waste", "plant_based_meals",
              "plant_trees", "forest_fire_volunteer", "no_open_burning_home"]


@pytest.fixture(scope="module")
def content():
    return load_content()


@pytest.fixture
def tmp_content(tmp_path):
    """A private copy of content/ an editor can break."""
    dst = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, dst)
    return dst


def edit_yaml(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def all_messages(content) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def]
    """Every message list the content can produce, by a readable name."""
    out = {f"answer {i}": msg.answer_messages(content, i) for i in content.answers}
    for aid, a in content.actions.items():
        out[f"action card {aid}"] = [msg.flex(a.title, msg.action_card(a, content))]
        out[f"estimate {aid}"] = msg.estimate_messages(content, aid)
    for topic in {a.topic for a in content.actions.values()}:
        acts = content.actions_for(topic)
        out[f"carousel {topic}"] = [msg.flex(msg.actions_alt(acts, content),
                                             msg.action_carousel(acts, content, "pledge.pick"))]
    out["topics"] = [msg.text("เลือกหัวข้อ", quick=msg.topic_quick_replies(content))]
    return out


def flex_containers(messages: list[dict]) -> list[dict]:
    return [m["contents"] for m in messages if m["type"] == "flex"]


def uris(x) -> list[str]:  # type: ignore[no-untyped-def]
    if isinstance(x, dict):
        found = [x["uri"]] if x.get("type") == "uri" else []
        return found + [u for v in x.values() for u in uris(v)]
    if isinstance(x, list):
        return [u for v in x for u in uris(v)]
    return []


# -- the shipped content ------------------------------------------------------------------------
def test_shipped_content_passes_the_check():
    assert check_content(CONTENT_DIR) == []


def test_every_contract_intent_has_an_answer_or_a_flow(content):
    intents, _ = contract_intents(CONTENT_DIR)
    assert len(intents) == 26
    for intent in intents:
        assert intent in content.answers or intent in content.flows, intent
    assert set(content.flows) == FLOWS
    assert set(INFORMATIONAL) | {"greet", "thanks", "help"} == set(content.answers)


def kept_contract() -> list[str]:
    return list(yaml.safe_load((CONTENT_DIR / "intents.yaml").read_text(encoding="utf-8"))["intents"])


def test_contract_copy_in_content_lists_26_distinct_intents_the_matcher_learns():
    kept = kept_contract()
    assert len(kept) == 26 and len(set(kept)) == 26
    training = yaml.safe_load((CONTENT_DIR / "nlu" / "training.yaml").read_text(encoding="utf-8"))
    assert set(kept) == set(training)


def test_contract_copy_matches_the_shared_contract():
    if not SHARED_CONTRACT.exists():
        pytest.skip(f"{SHARED_CONTRACT} is absent (a checkout without ../shared): the copy in "
                    "content/intents.yaml cannot be compared with the contract")
    assert kept_contract() == list(yaml.safe_load(SHARED_CONTRACT.read_text(encoding="utf-8")))


@pytest.mark.parametrize("intent", INFORMATIONAL)
def test_informational_answer_is_short_sourced_and_leads_somewhere(content, intent):
    answer = content.answers[intent]
    messages = msg.answer_messages(content, intent)
    first = messages[0]
    assert first["type"] == "text"
    assert visible_length(answer.text) <= 350
    assert answer.sources
    # The resident can see and open every source: a "ที่มา:" line or a tappable link in the card.
    shown = first["text"] + json.dumps(messages, ensure_ascii=False)
    for s in answer.sources:
        assert s.url.startswith(("https://", "http://"))
        assert s.title in shown and s.url in first["text"] + " ".join(uris(messages))
    quick = messages[-1]["quickReply"]["items"]
    assert 2 <= len(quick) <= 4
    for item in quick:
        # each follow-up sends words that belong to an existing answer or flow
        sent = item["action"]["text"]
        assert sent in {a.ask for a in content.answers.values()} | {f.ask for f in content.flows.values() if f.ask}


def test_quick_replies_point_to_existing_intents(content):
    for answer in content.answers.values():
        for n in answer.next:
            assert n in content.answers or (n in content.flows and content.flows[n].label), (answer.intent, n)


@pytest.mark.parametrize("name", sorted(all_messages(load_content())))
def test_every_message_is_valid_for_line_and_the_sdk(content, name):
    messages = all_messages(content)[name]
    assert 1 <= len(messages) <= 5
    for m in messages:
        Message.from_dict(m)  # raises on anything the SDK cannot model
        if m["type"] == "text":
            assert 0 < len(m["text"]) <= 5000
        if m["type"] == "flex":
            assert FlexMessage.from_dict(m).alt_text
            assert 0 < len(m["altText"]) <= 1500
            container = FlexContainer.from_dict(m["contents"])
            # nothing the SDK would silently drop
            assert validate._drop_none(container.to_dict()) == m["contents"]
        for item in (m.get("quickReply") or {}).get("items", []):
            assert len(item["action"]["label"]) <= 20
    assert len((messages[-1].get("quickReply") or {}).get("items", [])) <= 13
    assert validate.validate_messages(messages) == []


def test_flex_buttons_and_links_are_within_limits(content):
    for name, messages in all_messages(content).items():
        for c in flex_containers(messages):
            for u in uris(c):
                assert u.startswith(("https://", "http://")) and len(u) <= 1000, name
            assert len(json.dumps(c, ensure_ascii=False).encode()) < 30_000, name


def test_haze_answer_links_to_the_services_residents_use_and_reports_no_reading(content):
    messages = msg.answer_messages(content, "haze_pm25")
    links = uris(messages)
    assert "https://www.cmuccdc.org" in links and "http://air4thai.pcd.go.th" in links
    everything = json.dumps(messages, ensure_ascii=False)
    assert "µg" not in everything and "AQI" not in everything  # no made-up live value
    assert "ม.ค.-พ.ค." in everything and "FireD" in everything


def test_campaign_answer_states_the_mou_partners_and_target(content):
    everything = json.dumps(msg.answer_messages(content, "campaign_about"), ensure_ascii=False)
    for fact in ("9 ก.ย. 2567", "21%", "2573", "30 มาตรการ", "6 สาขา", "สภาลมหายใจเชียงใหม่", "UNISERV",
                 "https://4forcenews.com/396065"):
        assert fact in everything


def test_effects_answer_covers_chiang_mai_heat_drought_floods_and_haze(content):
    everything = json.dumps(msg.answer_messages(content, "climate_effects"), ensure_ascii=False)
    for fact in ("41 องศาเซลเซียส", "10 อำเภอ", "5.30", "P.1", "PM2.5"):
        assert fact in everything


def test_measures_answer_says_where_the_full_list_is_kept(content):
    everything = json.dumps(msg.answer_messages(content, "campaign_measures"), ensure_ascii=False)
    assert "ทสจ.เชียงใหม่" in everything
    assert content.measures.total == 30 and content.measures.items == ()


def test_a_measure_added_in_thai_only_is_reported_until_its_english_is_written(tmp_content):
    def add(d):  # type: ignore[no-untyped-def]
        d["measures"] = [{"id": "m01", "sector": "energy", "title": "มาตรการทดสอบพลังงาน", "source": "seed_4forcenews"}]
    edit_yaml(tmp_content / "measures.yaml", add)
    assert check_content(tmp_content) == ["content/measures.yaml: measures.m01.title_en: missing English text"]
    english = load_contents(tmp_content).en  # the running bot still shows it, in Thai, meanwhile
    assert "มาตรการทดสอบพลังงาน" in json.dumps(msg.answer_messages(english, "campaign_measures"), ensure_ascii=False)


def test_measures_added_by_the_office_are_shown_without_code_change(tmp_content):
    def add(d):  # type: ignore[no-untyped-def]
        d["measures"] = [
            {"id": "m01", "sector": "energy", "title": "มาตรการทดสอบพลังงาน", "description": "คำอธิบาย",
             "title_en": "A test energy measure", "description_en": "What it is", "source": "seed_4forcenews"},
            {"id": "m02", "sector": "waste", "title": "มาตรการทดสอบขยะ", "title_en": "A test waste measure",
             "source": "seed_4forcenews"},
        ]
    edit_yaml(tmp_content / "measures.yaml", add)
    assert check_content(tmp_content) == []
    content = load_content(tmp_content)
    messages = msg.answer_messages(content, "campaign_measures")
    everything = json.dumps(messages, ensure_ascii=False)
    assert "มาตรการทดสอบพลังงาน" in everything and "มาตรการทดสอบขยะ" in everything
    assert "แสดง 2 จาก 30 มาตรการ" in everything
    carousel = flex_containers(messages)[0]
    assert carousel["type"] == "carousel" and len(carousel["contents"]) == 3  # overview + 2 sectors
    assert validate.validate_messages(messages) == []


def test_province_adaptation_sectors_replace_the_national_list_once_added(tmp_content):
    def add(d):  # type: ignore[no-untyped-def]
        d["adaptation"]["sectors"] = [{"id": "a1", "title": "สาขาทดสอบ", "source": "seed_4forcenews"}]
    edit_yaml(tmp_content / "measures.yaml", add)
    content = load_content(tmp_content)
    everything = json.dumps(msg.answer_messages(content, "campaign_adaptation"), ensure_ascii=False)
    assert "สาขาทดสอบ" in everything and "การท่องเที่ยว" not in everything
    shipped = json.dumps(msg.answer_messages(load_content(), "campaign_adaptation"), ensure_ascii=False)
    assert "การท่องเที่ยว" in shipped and "แผนการปรับตัวแห่งชาติ" in shipped


# -- actions -----------------------------------------------------------------------------------
def test_action_catalogue_covers_the_fixed_ids_and_all_five_topics(content):
    assert list(content.actions) == ACTION_IDS
    topics = {a.topic for a in content.actions.values()}
    assert topics == {"tips_energy", "tips_transport", "tips_waste", "tips_food_farming", "tips_forest_trees"}
    assert {a.sector for a in content.actions.values()} <= set(content.sectors)
    for a in content.actions.values():
        assert a.title and a.howto and a.source_title and a.source_url.startswith("http")


def test_every_number_follows_from_its_formula(content):
    with_number = [a for a in content.actions.values() if a.kg_co2e_year is not None]
    assert len(with_number) >= 6
    for a in with_number:
        assert abs(a.computed_kg_co2e_year - a.kg_co2e_year) <= 0.5, a.id
        assert a.factor is not None and a.factor.source.url
        assert "×" in a.formula_text and a.assumptions


def test_led_estimate_is_the_documented_arithmetic(content):
    a = content.actions["led_lighting"]
    # 5 bulbs × 0.018 kW × 1,825 h × 0.4750 kgCO2e/kWh (TGO 2026 grid factor)
    assert a.kg_co2e_year == pytest.approx(5 * 0.018 * 1825 * 0.4750, abs=0.1)
    text = msg.estimate_messages(content, "led_lighting")[0]["text"]
    assert "0.018 kW" in text and "0.475 kgCO2e/kWh" in text and "https://www.nationthailand.com" in text


def test_ac_shows_no_number_without_a_sourced_saving(content):
    # How much 1 °C warmer saves is not in the facts: no made-up percentage, only the sourced grid factor.
    a = content.actions["ac_plus_one"]
    assert a.kg_co2e_year is None
    text = msg.estimate_messages(content, "ac_plus_one")[0]["text"]
    assert "10%" not in text and "0.475" in text and "https://www.nationthailand.com" in text


def test_actions_without_a_defensible_number_say_why(content):
    without = [a for a in content.actions.values() if a.kg_co2e_year is None]
    assert {"public_transport", "compost_food_waste"} <= {a.id for a in without}
    for a in without:
        card = json.dumps(msg.action_card(a, content), ensure_ascii=False)
        assert content.text("cards.no_estimate_line") in card
        reply = msg.estimate_messages(content, a.id)[0]["text"]
        assert a.no_estimate in reply and a.source_url in reply


def test_tips_answer_shows_its_actions_with_pledge_and_arithmetic_buttons(content):
    messages = msg.answer_messages(content, "tips_energy")
    carousel = flex_containers(messages)[0]
    assert len(carousel["contents"]) == 5
    data = [b["footer"]["contents"][i]["action"]["data"] for b in carousel["contents"] for i in (0, 1)]
    assert msg.postback_data("pledge.pick", id="ac_plus_one") in data
    assert msg.parse_postback(data[1]) == (msg.ESTIMATE_POSTBACK, {"id": "ac_plus_one"})


def test_action_bubble_takes_the_callers_buttons(content):
    a = content.actions["sort_waste"]
    button = {"type": "button", "action": {"type": "postback", "label": "ทดสอบ", "data": "a=x"}}
    bubble = msg.action_bubble(a, content, [button])
    assert bubble["footer"]["contents"] == [button]
    assert validate.validate_flex_container(bubble) == []


# -- builders ------------------------------------------------------------------------------------
def test_postback_data_round_trips_and_respects_the_limit():
    data = msg.postback_data("pledge.pick", id="ac_plus_one", n=2)
    assert msg.parse_postback(data) == ("pledge.pick", {"id": "ac_plus_one", "n": "2"})
    assert msg.parse_postback("garbage") == ("", {"garbage": ""}) or msg.parse_postback("garbage")[0] == ""
    with pytest.raises(ValueError):
        msg.postback_data("x", v="ก" * 300)


def test_quick_reply_builders_make_line_items():
    item = msg.qr_text("ป้ายที่ยาวเกินยี่สิบตัวอักษรแน่นอน", "ข้อความ")
    assert len(item["action"]["label"]) <= 20
    m = msg.text("สวัสดี", quick=[item, msg.qr_postback("ปุ่ม", "a=x", "แสดง")])
    assert Message.from_dict(m).quick_reply.items[1].action.data == "a=x"
    f = msg.flex("ก" * 2000, {"type": "bubble", "body": {"type": "box", "layout": "vertical",
                                                          "contents": [{"type": "text", "text": "x"}]}})
    assert len(f["altText"]) == 1500 and FlexMessage.from_dict(f)


def test_topic_quick_replies_are_the_main_topics(content):
    items = msg.topic_quick_replies(content)
    assert 1 <= len(items) <= 13
    assert items[0]["action"]["text"] == content.answers[content.topics[0]].ask


def test_texts_are_read_from_every_texts_file(content):
    assert content.text("cards.estimate_line", kg="5") == "ลดได้ราว 5 kgCO2e ต่อปี"
    assert content.text("core.welcome")  # the lead's file, read the same way
    with pytest.raises(KeyError):
        content.text("cards.no_such_key")


def test_districts_load_and_resolve_by_name_or_alias(content):
    assert len(content.districts) == 25
    assert content.districts[0].code == "5001" and content.districts[0].name == "เมืองเชียงใหม่"
    assert content.district_by_name("แม่ริม").code == "5007"
    assert content.district_by_name("อำเภอ แม่ริม").name == "แม่ริม"
    assert content.district_by_name("Mae Rim").name == "แม่ริม"
    assert content.district_by_name("กรุงเทพ") is None


# -- content check catches broken files -----------------------------------------------------------
def broken(tmp_content: Path, file: str, change) -> list[str]:  # type: ignore[no-untyped-def]
    edit_yaml(tmp_content / file, change)
    return check_content(tmp_content)


def test_check_reports_a_schema_error(tmp_content):
    problems = broken(tmp_content, "answers.yaml", lambda d: d["answers"]["haze_pm25"].pop("text"))
    assert any("answers.haze_pm25.text" in p and "missing" in p for p in problems)
    with pytest.raises(ContentError) as e:
        load_content(tmp_content)
    assert "answers.haze_pm25.text" in str(e.value)


def test_check_reports_an_unknown_field(tmp_content):
    problems = broken(tmp_content, "answers.yaml", lambda d: d["answers"]["greet"].update(txet="x"))
    assert any("unknown field 'txet'" in p for p in problems)


def test_check_reports_a_contract_intent_without_answer_or_flow(tmp_content):
    def drop(d):  # type: ignore[no-untyped-def]
        del d["answers"]["climate_solutions"]
        for a in d["answers"].values():
            a["next"] = [n for n in a["next"] if n != "climate_solutions"] or ["greet", "thanks"]
        d["flows"].pop("privacy")
    problems = broken(tmp_content, "answers.yaml", drop)
    assert any("'climate_solutions' of the contract has no answer" in p for p in problems)
    assert any("'privacy' of the contract has no answer" in p for p in problems)


def test_check_reports_an_answer_without_a_source(tmp_content):
    problems = broken(tmp_content, "answers.yaml", lambda d: d["answers"]["ghg_footprint"].update(sources=[]))
    assert any("answers.ghg_footprint.sources" in p and "source" in p for p in problems)


def test_check_reports_an_unknown_source_and_a_bad_link(tmp_content):
    problems = broken(tmp_content, "answers.yaml", lambda d: d["answers"]["ghg_footprint"].update(sources=["nope"]))
    assert any("unknown source 'nope'" in p for p in problems)
    problems = broken(tmp_content, "sources.yaml", lambda d: d["sources"]["dustboy"].update(url="www.cmuccdc.org"))
    assert any("sources.dustboy.url" in p for p in problems)


def test_check_reports_messages_over_line_limits(tmp_content):
    def long(d):  # type: ignore[no-untyped-def]
        d["answers"]["haze_pm25"]["text"] = "ฝุ่น" * 200
        d["answers"]["haze_pm25"]["label"] = "ป้ายหัวข้อที่ยาวเกินกว่ายี่สิบตัวอักษร"
    problems = broken(tmp_content, "answers.yaml", long)
    assert any("answers.haze_pm25.text" in p and "short" in p for p in problems)
    assert any("answers.haze_pm25.label" in p and "limit of 20" in p for p in problems)


def test_check_reports_a_quick_reply_to_a_missing_intent(tmp_content):
    problems = broken(tmp_content, "answers.yaml", lambda d: d["answers"]["haze_pm25"]["next"].append("weather"))
    assert any("answers.haze_pm25.next" in p and "'weather'" in p for p in problems)


def test_check_reports_too_few_or_too_many_follow_ups(tmp_content):
    problems = broken(tmp_content, "answers.yaml", lambda d: d["answers"]["haze_pm25"].update(next=["greet"]))
    assert any("answers.haze_pm25.next" in p and "2 to 4" in p for p in problems)


def test_check_reports_an_action_whose_number_does_not_follow(tmp_content):
    def wrong(d):  # type: ignore[no-untyped-def]
        d["actions"][1]["estimate"]["kg_co2e_year"] = 500
    problems = broken(tmp_content, "actions.yaml", wrong)
    assert any("actions.led_lighting.estimate.kg_co2e_year" in p and "does not follow" in p for p in problems)


def test_check_reports_a_changed_factor_that_breaks_numbers(tmp_content):
    problems = broken(tmp_content, "actions.yaml", lambda d: d["factors"]["grid_electricity"].update(value=0.5))
    broken_ids = {re.search(r"actions\.(\w+)\.estimate", p).group(1) for p in problems if "does not follow" in p}
    assert broken_ids == {"led_lighting", "unplug_standby"}


def test_check_reports_an_action_with_neither_number_nor_reason(tmp_content):
    problems = broken(tmp_content, "actions.yaml", lambda d: d["actions"][5].pop("no_estimate"))
    assert any("actions.public_transport" in p and "no_estimate" in p for p in problems)


def test_check_reports_an_unknown_factor_or_sector(tmp_content):
    def bad(d):  # type: ignore[no-untyped-def]
        d["actions"][2]["estimate"]["factor"] = "coal"
        d["actions"][1]["sector"] = "transport"
    problems = broken(tmp_content, "actions.yaml", bad)
    assert any("unknown factor 'coal'" in p for p in problems)
    assert any("actions.led_lighting.sector" in p for p in problems)


def test_check_reports_a_measure_in_an_unknown_sector(tmp_content):
    problems = broken(tmp_content, "measures.yaml", lambda d: d.update(
        measures=[{"id": "m1", "sector": "tourism", "title": "ก", "source": "seed_4forcenews"}]))
    assert any("measures.m1.sector" in p for p in problems)


def test_check_reports_invalid_yaml_and_stray_characters(tmp_content):
    (tmp_content / "actions.yaml").write_text("actions: [\n", encoding="utf-8")
    assert any("content/actions.yaml: not valid YAML" in p for p in check_content(tmp_content))
    shutil.copy(CONTENT_DIR / "actions.yaml", tmp_content / "actions.yaml")
    problems = broken(tmp_content, "answers.yaml",
                      lambda d: d["answers"]["greet"].update(text="ยอดรวมทั้งจังהวัด"))  # a Hebrew letter
    assert any("answers.greet.text" in p and "unexpected character" in p for p in problems)


def test_check_reports_a_bad_district_file(tmp_content):
    (tmp_content / "districts.yaml").write_text(
        yaml.safe_dump([{"code": "5001", "name": "ก", "name_en": "a", "aliases": []},
                        {"code": "5001", "name": "ข", "name_en": "b", "aliases": []}], allow_unicode=True),
        encoding="utf-8")
    assert any("duplicate code 5001" in p for p in check_content(tmp_content))


def test_check_reports_a_rich_menu_area_to_a_missing_intent(tmp_content):
    problems = broken(tmp_content, "richmenu.yaml", lambda d: d["areas"][0].update(intent="lottery"))
    assert any("richmenu.yaml: areas[0].intent" in p for p in problems)


def test_check_reports_an_invalid_flex(tmp_content, monkeypatch):
    content = load_content(tmp_content)
    bad = {"type": "bubble", "body": {"type": "box", "contents": [{"type": "text", "text": "x"}]}}
    monkeypatch.setattr(msg, "answer_card", lambda answer, content: bad)
    problems = validate.check_rendering(content)
    assert any(p.startswith("answer haze_pm25") and "Flex" in p for p in problems)


@pytest.mark.parametrize("container, expected", [
    ({"type": "bubble", "body": {"type": "box", "contents": []}}, "layout"),
    ({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "txt"}]}}, "valid Flex"),
    ({"type": "bubble", "bodyy": {}}, "does not know"),
    ({"type": "bubble", "body": {"type": "box", "layout": "vertical",
                                 "contents": [{"type": "button", "style": "link"}]}}, "action"),
    ({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [
        {"type": "button", "action": {"type": "uri", "label": "ก" * 21, "uri": "https://a.b"}}]}}, "over 20"),
    ({"type": "carousel", "contents": [{"type": "bubble", "body": {
        "type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "x"}]}}] * 13}, "13 bubbles"),
])
def test_flex_validator_catches_what_line_refuses(container, expected):
    assert any(expected in p for p in validate.validate_flex_container(container))


def test_cli_content_check_exits_nonzero_with_one_line_per_problem(tmp_content):
    edit_yaml(tmp_content / "answers.yaml", lambda d: d["answers"]["ghg_footprint"].update(sources=[]))
    edit_yaml(tmp_content / "actions.yaml", lambda d: d["actions"][1]["estimate"].update(kg_co2e_year=1))
    runner = Flask("content_check_test").test_cli_runner(mix_stderr=False) \
        if "mix_stderr" in Flask.test_cli_runner.__code__.co_varnames else Flask("t").test_cli_runner()
    result = runner.invoke(content_cli, ["check", "--path", str(tmp_content)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("content/")]
    assert any("ghg_footprint.sources" in line for line in lines)
    assert any("led_lighting" in line for line in lines)
    ok = runner.invoke(content_cli, ["check", "--path", str(CONTENT_DIR)])
    assert ok.exit_code == 0, ok.output


# -- through the real seams ----------------------------------------------------------------------
def test_every_quick_reply_and_menu_text_is_understood_as_its_intent(content, shared_matcher):
    asks = {i: a.ask for i, a in content.answers.items()}
    asks.update({i: f.ask for i, f in content.flows.items() if f.ask})
    for intent, ask in asks.items():
        m = shared_matcher.classify(ask)
        assert (m.intent, m.confident) == (intent, True), (ask, m.intent)


def test_resident_asking_about_haze_gets_the_sourced_answer_over_the_webhook(app, signed_post, fake_line):
    from tests import events

    signed_post(events.payload(events.follow()))  # a friend of the bot, welcomed already
    fake_line.reset()
    assert signed_post(events.payload(events.text("ฝุ่นควันเชียงใหม่มาจากไหน"))).status_code == 200
    app.extensions["deps"].line.flush()
    [reply] = fake_line.replies()
    first, card = reply["messages"][0], reply["messages"][1]
    assert first["text"].startswith("ฝุ่น PM2.5") and card["type"] == "flex"
    assert "https://www.cmuccdc.org" in uris(card)
    assert len(reply["messages"][-1]["quickReply"]["items"]) == 3


def test_tapping_the_arithmetic_button_shows_formula_and_source(app, signed_post, fake_line):
    from tests import events

    data = msg.postback_data(msg.ESTIMATE_POSTBACK, id="led_lighting")
    signed_post(events.payload(events.follow()))  # a friend of the bot, welcomed already
    fake_line.reset()
    assert signed_post(events.payload(events.postback(data))).status_code == 200
    app.extensions["deps"].line.flush()
    [reply] = fake_line.replies()
    body = reply["messages"][0]["text"]
    assert "0.475 kgCO2e/kWh" in body and "https://www.nationthailand.com/news/policy/40059019" in body
