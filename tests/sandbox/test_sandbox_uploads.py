"""Upload flow on the sandbox (multipart and chunked), video creation, publication, and the
Python samples of Dailymotion's authentication guide run unchanged against the sandbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
from _support import DATA
from _support.sandbox import api_error, bearer, partner_token, password_token

from dmtools.sandbox import Sandbox

SAMPLES = DATA / "seed_python_samples.txt"


@pytest.fixture()
def owner(sb: Sandbox) -> dict[str, str]:
    return bearer(password_token(sb))


def _target(
    sb: Sandbox, http: requests.Session, headers: dict[str, str], prefix: str = ""
) -> dict[str, str]:
    response = http.get(sb.url + prefix + "/file/upload", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_file_upload_points_at_the_sandbox(
    sb: Sandbox, http: requests.Session, owner: dict[str, str]
) -> None:
    target = _target(sb, http, owner)
    assert set(target) == {"upload_url", "progress_url"}
    assert target["upload_url"].startswith(sb.url + "/upload?")
    assert target["progress_url"].startswith(sb.url + "/progress?")
    assert http.get(sb.url + "/file/upload").status_code == 403


def test_multipart_upload_then_create_and_publish(
    sb: Sandbox, http: requests.Session, owner: dict[str, str]
) -> None:
    target = _target(sb, http, owner)
    assert http.get(target["progress_url"]).json()["state"] == "waiting"
    uploaded = http.post(target["upload_url"], files={"file": ("clip.mp4", b"\x00" * 70_000)})
    assert uploaded.status_code == 200
    assert uploaded.headers["Content-Type"].startswith("application/json")
    info = uploaded.json()
    assert info["url"].startswith(sb.url) and info["size"] == 70_000
    assert http.get(target["progress_url"]).json()["state"] == "done"
    created = http.post(
        sb.url + "/me/videos",
        headers=owner,
        data={"url": info["url"]},
        params={"fields": "id,title,published,status,owner"},
    )
    assert created.status_code == 200, created.text
    video = created.json()
    assert video["title"] == "clip" and video["published"] is False
    assert video["owner"] == sb.credentials.user.id
    commit = sb.commits()[-1]
    assert commit["kind"] == "create" and commit["video_id"] == video["id"]
    assert commit["fields"] == {"url": info["url"]}
    publish = http.post(
        sb.url + f"/video/{video['id']}",
        headers=owner,
        data={
            "published": "true",
            "title": "Clip",
            "channel": "music",
            "is_created_for_kids": "false",
        },
        params={"fields": "id,status,published"},
    )
    assert publish.json() == {"id": video["id"], "status": "published", "published": True}


def test_upload_without_file_field_is_an_error(
    sb: Sandbox, http: requests.Session, owner: dict[str, str]
) -> None:
    target = _target(sb, http, owner)
    response = http.post(target["upload_url"], files={"other": ("a", b"x")})
    assert response.status_code == 400 and "missing file" in response.text
    forged = http.post(target["upload_url"].replace("seal=", "seal=0"), files={"file": b"x"})
    assert forged.status_code == 400


def test_upload_larger_than_the_api_body_limit(
    sb: Sandbox, http: requests.Session, owner: dict[str, str]
) -> None:
    target = _target(sb, http, owner)
    response = http.post(target["upload_url"], files={"file": ("big.mp4", b"v" * (3 << 20))})
    assert response.status_code == 200 and response.json()["size"] == 3 << 20


def test_chunked_upload_with_content_range(
    sb: Sandbox, http: requests.Session, owner: dict[str, str]
) -> None:
    target = _target(sb, http, owner)
    data = bytes(range(256)) * 40  # 10,240 bytes in 3 chunks, sent out of order
    chunks = [(4096, 8191), (0, 4095), (8192, len(data) - 1)]
    answers = []
    for start, end in chunks:
        answers.append(
            http.post(
                target["upload_url"],
                data=data[start : end + 1],
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Disposition": 'attachment; filename="movie.mp4"',
                    "Content-Range": f"bytes {start}-{end}/{len(data)}",
                },
            )
        )
    assert [a.status_code for a in answers] == [202, 202, 200]
    assert answers[0].headers["Range"] == f"4096-8191/{len(data)}"
    assert answers[1].headers["Range"] == f"0-8191/{len(data)}"
    assert all(a.headers["Content-Type"].startswith("application/json") for a in answers)
    assert answers[0].json()["received"] == 4096
    final = answers[2].json()
    assert final["size"] == len(data) and final["name"] == "movie.mp4"
    progress = http.get(target["progress_url"]).json()
    assert (progress["state"], progress["progress"]) == ("done", 100)


def test_chunk_with_inconsistent_range_is_416(
    sb: Sandbox, http: requests.Session, owner: dict[str, str]
) -> None:
    target = _target(sb, http, owner)
    response = http.post(
        target["upload_url"], data=b"abc", headers={"Content-Range": "bytes 0-9/100"}
    )
    assert response.status_code == 416 and "Range" in response.headers


def test_create_requires_url_and_publish_requires_fields(
    sb: Sandbox, http: requests.Session, owner: dict[str, str]
) -> None:
    missing = http.post(sb.url + "/me/videos", headers=owner, data={"title": "t"})
    assert api_error(missing)["error_data"]["param"] == "url"
    before = len(sb.commits())
    for field, data in [
        ("title", {"published": "1", "channel": "music", "is_created_for_kids": "0", "title": ""}),
        ("channel", {"published": "1", "title": "T", "is_created_for_kids": "0"}),
        ("is_created_for_kids", {"published": "1", "title": "T", "channel": "music"}),
    ]:
        response = http.post(
            sb.url + "/me/videos",
            headers=owner,
            data={"url": "https://example.com/v.mp4", **data},
        )
        error = api_error(response)
        assert error["error_data"]["param"] == field, error
    assert len(sb.commits()) == before
    unknown = http.post(
        sb.url + "/me/videos",
        headers=owner,
        data={"url": sb.url + "/upload/files/nothing.mp4"},
    )
    assert api_error(unknown)["error_data"]["param"] == "url"


def test_create_needs_upload_scope(sb: Sandbox, http: requests.Session) -> None:
    token = bearer(partner_token(sb, scope="read_videos edit_videos"))
    channel = sb.credentials.private_key.channels[0]
    response = http.post(
        sb.url + f"/rest/user/{channel}/videos",
        headers=token,
        data={"url": "https://example.com/v.mp4"},
    )
    assert api_error(response)["error_data"]["scope"] == "upload_videos"


def _sample_code(sb: Sandbox, video_file: Path, channel: str, existing: str) -> list[str]:
    text = SAMPLES.read_text(encoding="utf-8")
    key = sb.credentials.private_key
    replacements = {
        "https://partner.api.dailymotion.com": sb.url,
        "<Your-client-id>": key.client_id,
        "<Your-client-secret>": key.client_secret,
        "Path/To/Your/File": str(video_file),
        "<your-channel-xid>)": repr(channel) + ")",
        "edit_video_title(<your-video-xid>, <your-new-title>)": f"edit_video_title({existing!r}, 'Renamed by the guide sample')",
        "delete_video(<your-video-xid>)": "delete_video(published_video['id'])",
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return re.split(r"^# ==== sample: .*$", text, flags=re.M)[1:]


def test_the_guides_python_samples_run_against_the_sandbox(tmp_path: Path) -> None:
    with Sandbox(videos=20) as sb:
        video_file = tmp_path / "video.mp4"
        video_file.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x01" * 4000)
        channel = sb.credentials.private_key.channels[1]
        existing = requests.get(sb.url + f"/rest/user/{channel}/videos", timeout=10).json()["list"][
            0
        ]["id"]
        samples = _sample_code(sb, video_file, channel, existing)
        assert len(samples) == 4
        namespace: dict[str, Any] = {"__name__": "guide_samples"}
        for code in samples:
            exec(compile(code, str(SAMPLES), "exec"), namespace)
        published = namespace["published_video"]
        assert published["id"].startswith("x")
        assert namespace["access_token"].startswith("emu_")
        kinds = [(c["kind"], c["video_id"]) for c in sb.commits()]
        assert kinds == [
            ("create", published["id"]),
            ("edit", existing),
            ("delete", published["id"]),
        ]
        assert sb.commits()[0]["fields"]["channel"] == "videogames"
        assert (sb.get_video(existing) or {})["title"] == "Renamed by the guide sample"
        assert sb.get_video(published["id"]) is None
