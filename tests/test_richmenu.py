"""The rich menu: drawn from content/richmenu.yaml, deployed through the SDK to (fake) LINE."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import yaml
from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, MessagingApiBlob

from bot.content import CONTENT_DIR, load_content, png_size
from bot.content.cli import richmenu_cli
from bot.richmenu import RichMenuError, deploy_richmenu
from tests.fakeline import FakeLine

ROOT = CONTENT_DIR.parent


@pytest.fixture
def fake():
    with FakeLine() as f:
        yield f


@pytest.fixture
def sdk(fake):
    client = ApiClient(Configuration(host=fake.url, access_token="test-token"))
    yield MessagingApi(client), MessagingApiBlob(client)
    client.close()


def test_deploy_creates_the_menu_uploads_the_png_and_makes_it_default(fake, sdk):
    content = load_content()
    result = deploy_richmenu(*sdk, content)
    assert fake.default_richmenu == result.rich_menu_id
    menu = fake.richmenus[result.rich_menu_id]
    assert menu["size"] == {"width": 2500, "height": 1686}
    assert menu["chatBarText"] == content.richmenu.chat_bar_text
    # each area asks the question of its intent, in words the matcher maps to it
    sent = [a["action"]["text"] for a in menu["areas"]]
    assert sent == [content.ask_of(a.intent) for a in content.richmenu.areas]
    assert "ฝุ่นควันเชียงใหม่มาจากไหน" in sent
    ctype, data = fake.richmenu_image(result.rich_menu_id)
    assert ctype == "image/png" and data == (CONTENT_DIR / "richmenu.png").read_bytes()


def test_areas_tile_the_whole_image_without_overlap():
    menu = load_content().richmenu
    assert sum(a.width * a.height for a in menu.areas) == menu.width * menu.height
    for a in menu.areas:
        assert a.x + a.width <= menu.width and a.y + a.height <= menu.height


def test_redeploy_replaces_the_previous_default(fake, sdk):
    content = load_content()
    first = deploy_richmenu(*sdk, content)
    second = deploy_richmenu(*sdk, content)
    assert second.previous_id == first.rich_menu_id and second.deleted_previous
    assert fake.default_richmenu == second.rich_menu_id
    assert list(fake.richmenus) == [second.rich_menu_id]


def test_a_refused_upload_leaves_the_old_menu_in_place(fake, sdk):
    content = load_content()
    first = deploy_richmenu(*sdk, content)
    fake.fail_next("richmenu_content", status=500)
    with pytest.raises(RichMenuError):
        deploy_richmenu(*sdk, content)
    assert fake.default_richmenu == first.rich_menu_id
    assert list(fake.richmenus) == [first.rich_menu_id]  # the half-made one was deleted


def test_flask_richmenu_deploy_uses_the_apps_line_client(app, fake_line):
    result = app.test_cli_runner().invoke(richmenu_cli, ["deploy"])
    assert result.exit_code == 0, result.output
    assert fake_line.default_richmenu and fake_line.default_richmenu in result.output


def test_deploy_without_the_png_says_how_to_draw_it(tmp_path, sdk):
    dst = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, dst)
    (dst / "richmenu.png").unlink()
    content = load_content(dst)  # the bot still runs; only deploying needs the image
    with pytest.raises(RichMenuError, match="draw_richmenu"):
        deploy_richmenu(*sdk, content)


def test_committed_png_matches_the_definition():
    menu = load_content().richmenu
    assert png_size(menu.image) == (menu.width, menu.height)
    assert menu.image.stat().st_size <= 1024 * 1024


FONT = Path("/usr/share/fonts/truetype/tlwg/Loma-Bold.ttf")


@pytest.mark.skipif(importlib.util.find_spec("PIL") is None or not FONT.exists(),
                    reason="drawing needs Pillow and fonts-thai-tlwg")
def test_draw_script_draws_labels_from_the_yaml(tmp_path):
    from PIL import Image

    from scripts.draw_richmenu import main

    dst = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, dst)
    data = yaml.safe_load((dst / "richmenu.yaml").read_text(encoding="utf-8"))
    data["areas"][0]["color"] = "#000000"
    (dst / "richmenu.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "menu.png"
    assert main(["--content", str(dst), "--out", str(out)]) == 0
    img = Image.open(out).convert("RGB")
    assert img.size == (2500, 1686)
    tile = img.crop((100, 100, 700, 700))
    colours = {c for _, c in tile.getcolors(maxcolors=1_000_000)}
    assert (0, 0, 0) in colours and (255, 255, 255) in colours  # the tile, and white Thai text on it
