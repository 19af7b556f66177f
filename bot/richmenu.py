"""Create the campaign's rich menu on LINE from content/richmenu.yaml and its PNG.

The PNG is drawn beforehand by scripts/draw_richmenu.py and committed, so deploying needs
no font and no imaging library. LINE's API is reached only through the SDK clients passed in
(bot/line.py's LineClient.api and .blob_api), which the tests point at the fake LINE API.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from linebot.v3.messaging import (
    ApiException,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)

log = logging.getLogger(__name__)


class RichMenuError(Exception):
    """The rich menu could not be deployed (bad definition, or LINE refused a step)."""


@dataclass(frozen=True)
class DeployResult:
    rich_menu_id: str
    previous_id: str | None
    deleted_previous: bool


def rich_menu_request(content: Any) -> RichMenuRequest:
    """The SDK request for the menu defined in content/richmenu.yaml."""
    menu = content.richmenu
    if menu is None:
        raise RichMenuError("content/richmenu.yaml is missing")
    areas = [
        RichMenuArea(
            bounds=RichMenuBounds(x=a.x, y=a.y, width=a.width, height=a.height),
            action=MessageAction(label=a.label, text=a.text),
        )
        for a in menu.areas
    ]
    return RichMenuRequest(
        size=RichMenuSize(width=menu.width, height=menu.height), selected=True,
        name=menu.name, chat_bar_text=menu.chat_bar_text, areas=areas,
    )


def _default_id(api: MessagingApi) -> str | None:
    try:
        return str(api.get_default_rich_menu_id().rich_menu_id)
    except ApiException as e:
        if e.status == 404:  # no default menu yet
            return None
        raise


def deploy_richmenu(api: MessagingApi, blob_api: MessagingApiBlob, content: Any,
                    delete_previous: bool = True) -> DeployResult:
    """Create the menu, upload its image, make it every friend's default; then drop the old default.

    The new menu is complete (image uploaded) before it becomes the default, so residents never
    see a menu without its picture; if a step fails, the half-made menu is deleted again.
    """
    menu = content.richmenu
    if menu is None:
        raise RichMenuError("content/richmenu.yaml is missing")
    if not menu.image.exists():
        raise RichMenuError(f"{menu.image} is missing: run python scripts/draw_richmenu.py")
    image = menu.image.read_bytes()
    request = rich_menu_request(content)
    try:
        previous = _default_id(api)
        rich_menu_id = api.create_rich_menu(request).rich_menu_id
    except ApiException as e:
        raise RichMenuError(f"LINE refused the rich menu: {e.status} {e.reason}: {e.body}") from e
    try:
        blob_api.set_rich_menu_image(rich_menu_id, body=bytearray(image),
                                     _headers={"Content-Type": "image/png"})
        api.set_default_rich_menu(rich_menu_id)
    except ApiException as e:
        try:
            api.delete_rich_menu(rich_menu_id)
        except ApiException:
            log.warning("could not delete the half-made rich menu %s", rich_menu_id)
        raise RichMenuError(f"LINE refused the rich menu image or default: {e.status} {e.reason}: {e.body}") from e
    deleted = False
    if delete_previous and previous and previous != rich_menu_id:
        try:
            api.delete_rich_menu(previous)
            deleted = True
        except ApiException as e:
            log.warning("new menu is live, but the previous one %s was not deleted: %s", previous, e.status)
    return DeployResult(rich_menu_id, previous, deleted)
