"""The language matcher: what residents type -> what the bot understands."""
from __future__ import annotations

import json
import random
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot import CONTENT_DIR
from bot import messages as msg
from bot.limits import MAX_QUICK_REPLIES
from bot.nlu import Match, Matcher
from bot.nlu.cli import evaluate, read_tsv
from tests import events

EVAL_TSV = CONTENT_DIR / "nlu" / "eval.tsv"
HOLDOUT_TSV = CONTENT_DIR / "nlu" / "holdout.tsv"
HOLDOUT2_TSV = CONTENT_DIR / "nlu" / "holdout2.tsv"
ACTION_IDS = {
    "ac_plus_one", "led_lighting", "unplug_standby", "solar_rooftop", "cook_efficient",
    "public_transport", "cycle_walk", "carpool", "eco_driving",
    "sort_waste", "compost_food_waste", "refuse_plastic",
    "no_crop_burning", "reduce_food_waste", "plant_based_meals",
    "plant_trees", "forest_fire_volunteer", "no_open_burning_home",
}


def _yaml(path: Path):
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def matcher(shared_matcher) -> Matcher:
    return shared_matcher


@pytest.fixture(scope="module")
def districts() -> list[dict]:
    return _yaml(CONTENT_DIR / "districts.yaml")


@pytest.fixture
def nlu_runner(app):
    return app.test_cli_runner()


def intent_ids() -> set[str]:
    """The contract's intent ids, from the copy content/ keeps (tests/test_content.py compares it
    with ../shared/contracts/intents.yaml, and says so when that file is absent)."""
    return set(_yaml(CONTENT_DIR / "intents.yaml")["intents"])


# -- data ----------------------------------------------------------------------
def test_training_covers_every_contract_intent_with_enough_phrases():
    training = _yaml(CONTENT_DIR / "nlu" / "training.yaml")
    assert set(training) == intent_ids()
    short = {i: len(p) for i, p in training.items() if len(p) < 15}
    assert not short, f"intents with fewer than 15 training phrases: {short}"


def test_evaluation_set_is_large_enough_and_never_trained_on(matcher):
    rows = read_tsv(EVAL_TSV)
    per_intent: dict[str, int] = {}
    for _, intent, _ in rows:
        per_intent[intent] = per_intent.get(intent, 0) + 1
    assert set(per_intent) == intent_ids()
    assert all(n >= 10 for n in per_intent.values()), per_intent
    assert per_intent["out_of_scope"] >= 30
    training = _yaml(CONTENT_DIR / "nlu" / "training.yaml")
    trained = {matcher.normalize(str(p)).replace(" ", "") for ps in training.values() for p in ps}
    leaked = [t for t, _, _ in rows if matcher.normalize(t).replace(" ", "") in trained - {""}]
    assert not leaked, f"evaluation phrases also in training.yaml: {leaked}"


# -- accuracy on the held-out set --------------------------------------------------
HOLDOUTS = [
    # content/nlu/holdout.tsv: messages written apart from training.yaml (chat, คำเมือง, typos).
    pytest.param(HOLDOUT_TSV, 12, 0.95, 0.90, id="holdout"),
    # content/nlu/holdout2.tsv: elders' คำเมือง, students' slang and English, long and two-topic
    # messages, one-word messages, office style, typos, Thai digits and emoji.
    pytest.param(HOLDOUT2_TSV, 10, 0.97, 0.95, id="holdout2"),
]


@pytest.mark.parametrize("path,per_intent_min,accuracy,oos_rejected", HOLDOUTS)
def test_held_out_residents_messages_are_understood_and_never_trained_on(matcher, path, per_intent_min,
                                                                          accuracy, oos_rejected):
    rows = read_tsv(path)
    per_intent: dict[str, int] = {}
    for _, intent, _ in rows:
        per_intent[intent] = per_intent.get(intent, 0) + 1
    assert set(per_intent) == intent_ids()
    assert all(n >= per_intent_min for n in per_intent.values()), per_intent
    assert per_intent["out_of_scope"] >= 40
    training = _yaml(CONTENT_DIR / "nlu" / "training.yaml")
    trained = {matcher.normalize(str(p)).replace(" ", "") for ps in training.values() for p in ps}
    leaked = [t for t, _, _ in rows if matcher.normalize(t).replace(" ", "") in trained - {""}]
    assert not leaked, f"{path.name} phrases also in training.yaml: {leaked}"
    report = evaluate(matcher, rows)
    assert report["accuracy"] >= accuracy, report["confusions"][:10]
    assert report["oos_rejected"] >= oos_rejected
    assert report["false_rejection"] <= 0.02


def test_evaluation_set_accuracy_floor(matcher):
    report = evaluate(matcher, read_tsv(EVAL_TSV))
    assert report["accuracy"] >= 0.92, report["confusions"][:10]
    assert report["oos_rejected"] >= 0.90
    assert report["false_rejection"] <= 0.05


def test_every_answer_is_a_contract_intent(matcher):
    ids = intent_ids()
    for text, _, _ in read_tsv(EVAL_TSV):
        m = matcher.classify(text)
        assert m.intent in ids
        assert 0.0 <= m.score <= 1.0
        assert m.intent not in [i for i, _ in m.alternatives]
        assert [s for _, s in m.alternatives] == sorted((s for _, s in m.alternatives), reverse=True)


@pytest.mark.parametrize(
    "text, intent",
    [
        ("climate change คืออะไร", "climate_basics"),
        ("โลกร้อนคืออะไรรรร ค้าบบบ 555", "climate_basics"),
        ("โลกฮ้อนคืออะหยัง", "climate_basics"),
        ("PM๒.๕ อันตรายมั้ย 😷", "haze_pm25"),
        ("ฝุ่น pm 2.5 หนักแต๊", "haze_pm25"),
        ("ขอบใจเน้อ", "thanks"),
        ("หวัดดีครับบอท", "greet"),
        ("ใช้ยังไง", "help"),
        ("ปะหยัดไฟยังงัย", "tips_energy"),
        ("ขอดู ๓๐ มาตรการ", "campaign_measures"),
        ("ยกเลิกคำมั่น", "pledge_cancel"),
        ("ยกเลิกคำมั้นแยกขยะ", "pledge_cancel"),
    ],
)
def test_chat_dialect_and_mixed_language_are_understood(matcher, text, intent):
    assert matcher.classify(text).intent == intent


@pytest.mark.parametrize(
    "text",
    ["หยุดส่ง", "ไม่รับข่าว", "เลิกแจ้งเตือน", "หยุดส่งข่าวนะ ขอบคุณ", "บ่เอาข่าวแล้วเจ้า",
     "stop", "ไม่ต้องส่งข้อความมาแล้ว โลกร้อนไม่สนแล้ว", "ยกเลิกรับข่าวสาร"],
)
def test_opt_out_always_wins(matcher, text):
    m = matcher.classify(text)
    assert m.intent == "broadcast_optout" and m.confident


def test_opening_notifications_again_is_not_an_opt_out(matcher):
    assert matcher.classify("เปิดการแจ้งเตือนอีกครั้ง").intent == "broadcast_optin"


# -- out of scope ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["หวยงวดนี้ออกอะไร", "ขอเลขเด็ดหน่อย", "ราคาทองวันนี้", "ราคาน้ำมันดีเซลพรุ่งนี้", "ผลบอลแมนยูเมื่อคืน",
     "พรุ่งนี้ฝนตกไหม", "พยากรณ์อากาศเชียงใหม่", "ดูดวงความรัก", "qwertyuiop", "ฟหกดฟหกดเ",
     "🤣🤣🤣", "555555", "......"],
)
def test_other_topics_and_gibberish_are_out_of_scope(matcher, text):
    assert matcher.classify(text).intent == "out_of_scope"


# Messages that name no topic: whatever the matcher guesses, it must not be sure of it.
VAGUE = ["ช่วยได้ไหม", "อันนี้ล่ะ"]


@pytest.mark.parametrize("text", VAGUE)
def test_a_vague_message_is_flagged_with_alternatives_that_are_real_intents(matcher, text):
    m = matcher.classify(text)
    assert isinstance(m, Match)
    assert m.intent == "out_of_scope" or not m.confident, f"{text!r} read with confidence as {m.intent} ({m.score:.2f})"
    alternatives = [i for i, _ in m.alternatives]
    assert alternatives, f"{text!r}: no other reading to offer"
    assert set(alternatives) <= intent_ids() - {m.intent}, alternatives
    assert all(0.0 < s <= m.score for _, s in m.alternatives), m.alternatives


def test_a_vague_message_gets_choices_from_the_bot_not_a_wrong_answer(app, signed_post, fake_line, matcher):
    """Through the webhook: "did you mean …?" with the guesses as quick replies, or the fallback with
    the topics when the matcher puts the message out of scope; never a topic's answer."""
    content = app.extensions["deps"].content
    uid = events.user_id(4242)
    assert signed_post(events.payload(events.follow(uid))).status_code == 200
    answers = [a.text[:40] for a in content.answers.values()] + [e.text[:40] for e in content.entries.values()]
    topics = [q["action"]["label"] for q in msg.topic_quick_replies(content)]
    for text in VAGUE:
        m = matcher.classify(text)
        before = len(fake_line.replies())
        assert signed_post(events.payload(events.text(text, uid))).status_code == 200
        [reply] = fake_line.replies()[before:]
        [message] = reply["messages"]
        labels = [i["action"]["label"] for i in message["quickReply"]["items"]]
        assert not any(start in message["text"] for start in answers), (text, message["text"])
        if m.intent == "out_of_scope":
            assert message["text"] == content.text("core.fallback")
            assert labels == topics
            continue
        guesses = list(dict.fromkeys(q["action"]["label"] for i in [m.intent, *(i for i, _ in m.alternatives)]
                                     if i != "out_of_scope" and (q := msg.intent_quick_reply(content, i))))[:3]
        assert guesses, text
        assert message["text"] == content.text("core.did_you_mean", topic=guesses[0])
        assert labels == (guesses + [t for t in topics if t not in guesses])[:MAX_QUICK_REPLIES]  # guesses, then topics


def test_a_clear_question_is_read_with_confidence(matcher):
    confident = matcher.classify("ภาวะโลกร้อนคืออะไร")
    assert confident.confident and confident.intent == "climate_basics"
    assert all(i != confident.intent for i, _ in confident.alternatives)


# -- entities -----------------------------------------------------------------------------
def test_districts_file_lists_the_25_districts_in_dopa_order(districts):
    assert [d["code"] for d in districts] == [str(5001 + i) for i in range(25)]
    assert districts[0]["name"] == "เมืองเชียงใหม่" and districts[-1]["name"] == "กัลยาณิวัฒนา"
    for d in districts:
        assert set(d) - {"centre"} == {"code", "name", "name_en", "aliases"}  # centre: for bot/air


def test_every_district_is_recognised_by_name(matcher, districts):
    for d in districts:
        name = d["name"]
        for text in (name, f"ผมอยู่อำเภอ{name}", f"อยู่ อ.{name} ค่ะ", f"บ้านอยู่{name}เจ้า"):
            m = matcher.classify(text)
            assert m.entities.get("district") == name, (text, m)
            assert m.intent == "set_district", (text, m)


def test_every_district_alias_is_recognised(matcher, districts):
    for d in districts:
        for alias in d["aliases"]:
            m = matcher.classify(f"ฉันอยู่ {alias}")
            assert m.entities.get("district") == d["name"], (alias, m)


@pytest.mark.parametrize(
    "text, district",
    [
        ("อยู่อ.เมือง", "เมืองเชียงใหม่"),
        ("บ้านอยู่ในเมือง", "เมืองเชียงใหม่"),
        ("เมืองเชียงใหม่", "เมืองเชียงใหม่"),
        ("I live in Mae Rim", "แม่ริม"),
        ("อยู่แม่ริมม", "แม่ริม"),
        ("อยู่สันป่าตอง", "สันป่าตอง"),
        ("อยู่สันปาตอง", "สันป่าตอง"),  # tone mark missing
        ("ย้ายไปอยู่ดอยสะเก็ตแล้ว", "ดอยสะเก็ด"),  # wrong letter
        ("บ้านอยู่สันกำแพ", "สันกำแพง"),  # missing letter
        ("อยู่ไชยปราการ", "ไชยปราการ"),
        ("ฝุ่นที่แม่แจ่มหนักไหม", "แม่แจ่ม"),
    ],
)
def test_district_aliases_and_typos(matcher, text, district):
    assert matcher.classify(text).entities.get("district") == district


@pytest.mark.parametrize("text", ["เมืองคาร์บอนต่ำคืออะไร", "น้ำมะพร้าวช่วยโลกร้อนไหม", "ขี่จักรยานในเมืองดีไหม"])
def test_words_that_merely_contain_a_district_are_not_one(matcher, text):
    assert "district" not in matcher.classify(text).entities


@pytest.mark.parametrize(
    "text, action",
    [
        ("จะแยกขยะ", "sort_waste"),
        ("ผมจะปรับแอร์เป็น 26 องศา", "ac_plus_one"),
        ("ฉันจะเปลี่ยนหลอด LED ทั้งบ้าน", "led_lighting"),
        ("จะถอดปลั๊กก่อนนอน", "unplug_standby"),
        ("ตั้งใจจะติดโซล่าเซลล์", "solar_rooftop"),
        ("จะใช้เตาประหยัดพลังงาน", "cook_efficient"),
        ("จะนั่งรถแดงไปทำงาน", "public_transport"),
        ("จะปั่นจักรยานไปตลาด", "cycle_walk"),
        ("จะติดรถเพื่อนไปทำงาน", "carpool"),
        ("สัญญาว่าจะขับรถประหยัดน้ำมัน", "eco_driving"),
        ("จะทำปุ๋ยหมักจากเศษอาหาร", "compost_food_waste"),
        ("จะใช้ถุงผ้าทุกครั้ง", "refuse_plastic"),
        ("ปีนี้จะไม่เผาตอซังข้าวโพด", "no_crop_burning"),
        ("จะกินข้าวให้หมดจาน", "reduce_food_waste"),
        ("จะกินผักมากขึ้น", "plant_based_meals"),
        ("จะปลูกต้นไม้ 10 ต้น", "plant_trees"),
        ("จะไปเป็นอาสาดับไฟป่า", "forest_fire_volunteer"),
        ("บ่เผาขยะหลังบ้านแล้ว สัญญาเจ้า", "no_open_burning_home"),
    ],
)
def test_a_pledge_names_its_action(matcher, text, action):
    assert action in ACTION_IDS
    m = matcher.classify(text)
    assert m.intent == "pledge_start", (text, m)
    assert m.entities.get("action") == action


def test_action_keywords_point_at_catalogue_ids(matcher):
    assert set(matcher.actions.keywords.values()) <= ACTION_IDS
    catalogue = CONTENT_DIR / "actions.yaml"
    if catalogue.exists():
        data = _yaml(catalogue)
        items = data.get("actions", data) if isinstance(data, dict) else data
        ids = {a["id"] for a in items} if isinstance(items, list) else set(items)
        assert set(matcher.actions.keywords.values()) <= ids


def test_asking_how_is_a_tip_not_a_pledge(matcher):
    m = matcher.classify("วิธีแยกขยะต้องทำยังไง")
    assert m.intent == "tips_waste"
    assert "action" not in m.entities


# -- offline and threads ------------------------------------------------------------------
def test_builds_and_classifies_with_downloads_and_network_forbidden(monkeypatch):
    import pythainlp.corpus
    import pythainlp.corpus.core

    def forbidden(*args, **kwargs):
        raise AssertionError("PyThaiNLP tried to download or reach the network")

    monkeypatch.setattr(pythainlp.corpus, "download", forbidden)
    monkeypatch.setattr(pythainlp.corpus.core, "download", forbidden)
    monkeypatch.setattr(pythainlp.corpus.core, "get_corpus_db", forbidden, raising=False)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    monkeypatch.setattr(socket, "create_connection", forbidden)
    m = Matcher.from_content(CONTENT_DIR)
    m.warm()
    assert m.classify("โลกร้อนคืออะไร").intent == "climate_basics"
    assert m.classify("อยู่แม่ริม").entities == {"district": "แม่ริม"}


def test_classify_is_thread_safe(matcher):
    texts = [t for t, _, _ in read_tsv(EVAL_TSV)]
    expected = [matcher.classify(t) for t in texts]
    results: dict[int, list[Match]] = {}

    def work(n: int) -> None:
        results[n] = [matcher.classify(t) for t in texts]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in results.values():
        assert [(m.intent, m.entities) for m in got] == [(m.intent, m.entities) for m in expected]


# -- CLI -------------------------------------------------------------------------------------
def test_cli_classify_writes_one_json_object_a_line(nlu_runner):
    result = nlu_runner.invoke(args=["nlu", "classify"],
                               input="จะแยกขยะ\nอยู่ อ.แม่ริม\n\nหวยงวดนี้\nเด็กเล็กใส่หน้ากาก N95 ได้ไหม\nฝุ่นคืออะไร\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [o["intent"] for o in lines] == ["pledge_start", "set_district", "out_of_scope", "haze_pm25", "haze_pm25"]
    assert lines[0] == {"text": "จะแยกขยะ", "intent": "pledge_start", "score": lines[0]["score"],
                        "entities": {"action": "sort_waste"}, "answer": None}
    assert lines[3]["answer"] == "mask_n95_kids"  # a specific question: its question-bank entry
    assert lines[4]["answer"] is None  # a broad one: the topic's overview
    assert lines[1]["entities"] == {"district": "แม่ริม"}
    assert "แยกขยะ" in result.output  # ensure_ascii=False: Thai stays readable


def test_cli_eval_reports_accuracy_and_confusions(nlu_runner, tmp_path):
    tsv = tmp_path / "mini.tsv"
    tsv.write_text("text\tintent\nโลกร้อนคืออะไร\tclimate_basics\nหวยออกอะไร\tout_of_scope\n"
                   "ขอบคุณครับ\tgreet\n", encoding="utf-8")
    result = nlu_runner.invoke(args=["nlu", "eval", str(tsv)])
    assert result.exit_code == 0, result.output
    assert "accuracy\t0.667" in result.output
    assert "precision" in result.output and "recall" in result.output
    assert "greet\tthanks\t1\tขอบคุณครับ" in result.output


def test_cli_unmatched_lists_the_most_frequent_texts_without_user_ids(nlu_runner, app):
    from bot.store.models import UnmatchedText

    assert not any("user" in c.name for c in UnmatchedText.__table__.columns)
    now = datetime.now(UTC)
    with app.extensions["deps"].db.session() as s:
        for text, n in (("ราคาทุเรียน", 3), ("วัดพระธาตุดอยสุเทพ", 1), ("ราคาทุเรียนนน", 1)):
            for _ in range(n):
                s.add(UnmatchedText(text=text, intent="out_of_scope", score=0.9, created_at=now))
    result = nlu_runner.invoke(args=["nlu", "unmatched", "--limit", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("4\tราคาทุเรียน")
    assert "ดอยสุเทพ" not in result.output


def test_phrases_never_trained_on_are_still_understood(matcher):
    """3-fold cross-validation over training.yaml (fixed seed): a resident's new wording still works."""
    lexicon = _yaml(CONTENT_DIR / "nlu" / "lexicon.yaml")
    training = _yaml(CONTENT_DIR / "nlu" / "training.yaml")
    districts = _yaml(CONTENT_DIR / "districts.yaml")
    rng = random.Random(0)
    folds: list[list[tuple[str, str]]] = [[], [], []]
    for intent, phrases in training.items():
        phrases = [str(p) for p in phrases]
        rng.shuffle(phrases)
        for j, phrase in enumerate(phrases):
            folds[j % 3].append((phrase, intent))
    right = total = oos = oos_right = 0
    for k, test in enumerate(folds):
        train: dict[str, list[str]] = {}
        for i, fold in enumerate(folds):
            if i != k:
                for phrase, intent in fold:
                    train.setdefault(intent, []).append(phrase)
        m = Matcher(lexicon, train, districts, trie=matcher.norm.trie)
        for phrase, intent in test:
            got = m.classify(phrase).intent
            right += got == intent
            total += 1
            if intent == "out_of_scope":
                oos += 1
                oos_right += got == intent
    print(f"3-fold accuracy {right / total:.4f}, out-of-scope rejected {oos_right / oos:.3f}")
    assert right / total >= 0.88, right / total
    assert oos_right / oos >= 0.75, oos_right / oos


def test_the_fast_dictionary_cuts_words_exactly_like_pythainlps_trie():
    from pythainlp.corpus import thai_words
    from pythainlp.tokenize import word_tokenize
    from pythainlp.util import Trie

    from bot.nlu.normalize import WordSet

    words = set(thai_words()) | {"โลกร้อน", "ฝุ่นควัน", "ฟุตพริ้นท์"}
    trie, fast = Trie(words), WordSet(words)
    phrases = [str(p) for ps in _yaml(CONTENT_DIR / "nlu" / "training.yaml").values() for p in ps]
    assert phrases
    for text in phrases:
        assert word_tokenize(text, custom_dict=fast, engine="newmm") == \
            word_tokenize(text, custom_dict=trie, engine="newmm"), text
    assert "โลกร้อน" in fast and "โลกร้" not in fast and len(fast) == len(trie)


def test_full_width_letters_and_digits_read_as_plain_ones(matcher):
    assert matcher.classify("ＰＭ２．５ อันตรายไหม").intent == matcher.classify("PM2.5 อันตรายไหม").intent == "haze_pm25"


def test_plain_english_questions_on_the_main_topics_are_understood(matcher):
    assert matcher.classify("is PM2.5 dangerous").intent == "haze_pm25"
    assert matcher.classify("is the smoke harmful").intent == "haze_pm25"
    assert matcher.classify("what is climate change").intent == "climate_basics"


def test_the_learnt_models_read_back_from_the_cache_answer_exactly_as_when_learnt(tmp_path, matcher):
    from bot.nlu.model_cache import path_for

    cached = Matcher.from_content(CONTENT_DIR, cache_dir=tmp_path)  # learns, then writes the cache
    assert path_for(tmp_path, CONTENT_DIR).exists()
    again = Matcher.from_content(CONTENT_DIR, cache_dir=tmp_path)  # reads it back
    assert again.intents == cached.intents == matcher.intents
    for text, _, _ in read_tsv(EVAL_TSV)[:120]:
        a, b = cached.classify(text), again.classify(text)
        assert (a.intent, a.answer, round(a.score, 9)) == (b.intent, b.answer, round(b.score, 9)), text


def test_the_fast_thai_normaliser_agrees_with_pythainlps_on_every_phrase_and_odd_spelling():
    from pythainlp.util import normalize as pythainlp_normalize

    from bot.nlu.normalize import th_normalize

    texts: list[str] = []
    for path in (CONTENT_DIR / "nlu").glob("*.tsv"):
        texts += [line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines()]
    for name in ("training.yaml", "bank_phrases.yaml", "overviews.yaml"):
        for phrases in _yaml(CONTENT_DIR / "nlu" / name).values():
            texts += [str(p) for p in phrases]
    odd = ["เเปลก", "นานาาา", "ดีีีี", "ก้ำ", "กํา", "กํ่า", "ก่่่า", "ก่้า", "  ่เริ่ม", "พ ุ่ม", "ภาพ ุ่", "สวัสดี\u200bครับ",
           "ภาษา\u200cไทย", "ฝุ่น  \n\n  เยอะ", "ฤๅ", "กๅ", "ไปป  ป", "โลกกก ร้อนนน", "เ เ ก", "ะะะ", "่ะ", "ค่ะะะ 555"]
    assert len(texts) > 5000
    for t in texts + odd:
        assert th_normalize(t) == pythainlp_normalize(t), t
