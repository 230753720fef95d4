"""`jointwatch media …` end to end on a real SQLite file: bank, match, dispute, exchange, bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner, Result

from jointwatch.cli import app
from tests.media.conftest import edited, image_bytes

runner = CliRunner()


def _run(db: Path, *args: str) -> Result:
    return runner.invoke(app, [*args, "--db", str(db)])


def _json(result: Result) -> object:
    return json.loads(result.stdout)


def test_bank_match_dispute_export_import(tmp_path: Path, photo_files: dict[str, Path],
                                          photos: dict[str, Image.Image]) -> None:
    db = tmp_path / "jw.db"
    assert _run(db, "init").exit_code == 0
    assert _run(db, "members", "add", "Platform A").exit_code == 0
    assert _run(db, "members", "add", "Agency B").exit_code == 0
    # nothing banked yet: matching refuses (exit 9), it never says the file is not known content
    unbanked = _run(db, "media", "match", str(photo_files["rocket"]))
    assert unbanked.exit_code == 9 and "no active item" in unbanked.output
    added = _run(db, "media", "add", str(photo_files["astronaut"]), str(photo_files["coffee"]), "-m", "Platform A",
                 "-t", "propaganda", "-g", "ISIL", "--tlp", "TLP:GREEN", "--json")
    assert added.exit_code == 0, added.output
    assert [o["item"]["id"] for o in _json(added)] == [1, 2]  # type: ignore[index]

    queries = tmp_path / "uploads"
    queries.mkdir()
    (queries / "rotated.jpg").write_bytes(image_bytes(edited(photos["astronaut"], "rotate"), "JPEG"))
    (queries / "unrelated.png").write_bytes(photo_files["rocket"].read_bytes())
    (queries / "zero.png").write_bytes(b"")
    (queries / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    matched = _run(db, "media", "match", str(queries), "--json")
    assert matched.exit_code == 7  # some files failed; every file is still reported
    by_name = {Path(o["path"]).name: o for o in _json(matched)}  # type: ignore[union-attr]
    assert set(by_name) == {"bomb.png", "rotated.jpg", "unrelated.png", "zero.png"}
    assert [(m["item"]["id"], m["method"]) for m in by_name["rotated.jpg"]["matches"]] == [(1, "orb")]
    assert by_name["unrelated.png"]["matches"] == [] and by_name["unrelated.png"]["error"] is None
    assert "zero.png: the file is empty" in by_name["zero.png"]["error"]
    assert "bomb.png" in by_name["bomb.png"]["error"]

    disputed = _run(db, "media", "dispute", "1", "-m", "Agency B", "-r", "a NASA photo")
    assert disputed.exit_code == 0 and "disputed" in disputed.stdout
    rotated = str(queries / "rotated.jpg")
    after = _run(db, "media", "match", rotated, "--viewer", "Agency B", "--json")
    assert after.exit_code == 0 and _json(after)[0]["matches"] == []  # type: ignore[index]
    others = _run(db, "media", "match", rotated, "--json")  # B's dispute is B's alone
    assert [m["item"]["id"] for m in _json(others)[0]["matches"]] == [1]  # type: ignore[index]
    refused = _run(db, "media", "withdraw", "1", "-m", "Agency B", "-r", "not mine")
    assert refused.exit_code == 4 and "only the member that contributed" in refused.output
    agreed = _run(db, "media", "dispute", "1", "-m", "Platform A", "-r", "agreed")
    assert agreed.exit_code == 0

    export = tmp_path / "bank.txt"
    assert _run(db, "media", "export", str(export), "-f", "te-signals").exit_code == 0
    assert export.read_text().count("\n") == 3  # coffee: pdq, md5, sha256 (the disputed one stays home)
    imported = _run(db, "media", "import", str(export), "-f", "te-signals", "-m", "Agency B", "--json")
    # one item: the three lines of one file are one item again (issue 13: they were three)
    assert imported.exit_code == 0 and _json(imported)["created"] == 1  # type: ignore[index]
    history = _run(db, "media", "history", "1", "--viewer", "Platform A", "--json")
    assert [e["action"] for e in _json(history)] == ["contribute", "dispute", "dispute"]  # type: ignore[union-attr]
    # the view every member shares leaves out Agency B's dispute: it is the contributor's business
    shared = _run(db, "media", "history", "1", "--json")
    assert [(e["action"], e["member"]) for e in _json(shared)] == [  # type: ignore[union-attr]
        ("contribute", "Platform A"), ("dispute", "Platform A")]
    listed = _run(db, "media", "list", "--viewer", "Agency B")
    assert listed.exit_code == 0 and "sha256:" in listed.stdout


def test_an_unknown_member_is_refused_once(tmp_path: Path, photo_files: dict[str, Path]) -> None:
    assert _run(tmp_path / "jw.db", "init").exit_code == 0
    result = _run(tmp_path / "jw.db", "media", "add", str(photo_files["coffee"]), "-m", "Nobody", "-t", "logo",
                  "--json")
    assert result.exit_code == 6 and _json(result)["message"] == "no member 'Nobody'"  # type: ignore[index]


def test_a_bad_exchange_file_exits_3_and_names_the_line(tmp_path: Path) -> None:
    db = tmp_path / "jw.db"
    _run(db, "init")
    _run(db, "members", "add", "Agency B")
    bad = tmp_path / "bad.txt"
    bad.write_text("pdq 00\n")
    result = _run(db, "media", "import", str(bad), "-f", "te-signals", "-m", "Agency B", "--json")
    assert result.exit_code == 3
    assert _json(result)["error"] == "ListFormatError"  # type: ignore[index]
    assert "bad.txt, line 1: pdq '00' is not 64 hex digits" in _json(result)["message"]  # type: ignore[index]


def test_the_cli_starts_without_the_media_extra(tmp_path: Path) -> None:
    # block the heavy libraries: `jointwatch --help` and `media --help` must still work
    code = ("import sys\n"
            "for name in ('PIL', 'pdqhash', 'cv2', 'faiss'): sys.modules[name] = None\n"
            "from typer.testing import CliRunner\n"
            "from jointwatch.cli import app\n"
            "r = CliRunner().invoke(app, ['media', '--help'])\n"
            "assert r.exit_code == 0, r.output\n"
            "r = CliRunner().invoke(app, ['media', 'hash', sys.argv[1]])\n"
            "assert r.exit_code == 10 and \"optional 'media' extra\" in ' '.join(r.output.split()), r.output\n")
    image = tmp_path / "x.png"
    image.write_bytes(b"\x89PNG")
    done = subprocess.run([sys.executable, "-c", code, str(image)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_without_member_the_cli_banks_as_the_local_member_and_its_user(tmp_path: Path,
                                                                        photo_files: dict[str, Path]) -> None:
    db = tmp_path / "jw.db"
    assert _run(db, "init").exit_code == 0
    added = runner.invoke(app, ["media", "add", str(photo_files["coffee"]), "-t", "propaganda", "--tlp", "red",
                                "--json", "--db", str(db)], env={"JOINTWATCH_USER": "analyst 7"})
    assert added.exit_code == 0, added.output
    item = _json(added)[0]["item"]  # type: ignore[index]
    members = {m["name"]: m["id"] for m in _json(_run(db, "members", "list", "--json"))}  # type: ignore[union-attr]
    # a red item is visible to its contributor only: the local member's view shows it
    listed = _json(_run(db, "media", "list", "--viewer", "local", "--json"))
    assert [i["id"] for i in listed] == [item["id"]]  # type: ignore[index,union-attr]
    history = _json(_run(db, "media", "history", str(item["id"]), "--viewer", str(members["local"]), "--json"))
    assert history[0]["user"] == "analyst 7"  # type: ignore[index]
    # a member that does not exist is never made on the fly: exit 6, nothing banked
    typo = _run(db, "media", "add", str(photo_files["rocket"]), "-t", "propaganda", "-m", "Platfrom A")
    assert typo.exit_code == 6
    assert len(_json(_run(db, "media", "list", "--viewer", "local", "--json"))) == 1  # type: ignore[arg-type]


def test_fetch_banks_a_delta_and_keeps_the_checkpoint(tmp_path: Path, photo_files: dict[str, Path]) -> None:
    import json

    from jointwatch.media import bank_deltas, delta_to_json
    from jointwatch.store import open_engine

    db = tmp_path / "jw.db"
    assert _run(db, "init").exit_code == 0
    for name in ("Platform A", "Agency B"):
        assert _run(db, "members", "add", name).exit_code == 0
    assert _run(db, "media", "add", str(photo_files["coffee"]), "-m", "Platform A", "-t", "logo", "-g", "ISIL",
                "--tlp", "green").exit_code == 0
    [delta] = list(bank_deltas(open_engine(str(db)), None))
    (tmp_path / "delta.json").write_text(json.dumps(delta_to_json(delta)))
    checkpoint = tmp_path / "checkpoint.json"
    fetched = _run(db, "media", "fetch", str(tmp_path / "delta.json"), "-m", "Agency B", "--checkpoint",
                   str(checkpoint), "--json")
    assert fetched.exit_code == 0, fetched.output
    assert _json(fetched)["created"] == 1  # type: ignore[index]
    assert json.loads(checkpoint.read_text())["item_id"] == 1
    listed = _json(_run(db, "media", "list", "--json"))
    assert {(i["contributor"], i["group"], i["content_type"]) for i in listed} == {  # type: ignore[union-attr]
        ("Platform A", "ISIL", "logo"), ("Agency B", "ISIL", "logo")}
    (tmp_path / "bad.json").write_text("{}")
    assert _run(db, "media", "fetch", str(tmp_path / "bad.json"), "-m", "Agency B", "--checkpoint",
                str(checkpoint)).exit_code == 0   # nothing in it: nothing moves
    (tmp_path / "bad.json").write_text('{"checkpoint": {}, "updates": [{"signal_type": "pdq", "signal": "1"}]}')
    refused = _run(db, "media", "fetch", str(tmp_path / "bad.json"), "-m", "Agency B", "--checkpoint",
                   str(checkpoint))
    assert refused.exit_code == 3 and "updates[0]" in refused.output


def test_a_banked_picture_in_the_later_frames_of_an_animation_is_found(tmp_path: Path, photo_files: dict[str, Path],
                                                                       photos: dict[str, Image.Image]) -> None:
    # one clean frame first, then the banked picture: matching the first frame alone let it through
    db = tmp_path / "jw.db"
    assert _run(db, "init").exit_code == 0
    assert _run(db, "media", "add", str(photo_files["astronaut"]), "-t", "propaganda").exit_code == 0
    clean, banked = photos["coffee"].resize((400, 400)), photos["astronaut"].resize((400, 400))
    for suffix in ("gif", "webp", "png"):
        animation = tmp_path / f"anim.{suffix}"
        clean.save(animation, save_all=True, append_images=[banked] * 5, duration=100)
        for flags in ((), ("--no-signatures",)):
            result = _run(db, "media", "match", str(animation), "--json", *flags)
            assert result.exit_code == 0, result.output
            [outcome] = _json(result)  # type: ignore[misc]
            assert [m["item"]["id"] for m in outcome["matches"]] == [1], (suffix, flags)
            assert outcome["note"].startswith("an animation of")
    # a still picture has no such note, and an unrelated animation matches nothing
    still = _json(_run(db, "media", "match", str(photo_files["coffee"]), "--json"))
    assert still[0]["note"] is None and still[0]["matches"] == []  # type: ignore[index]
    clean.save(tmp_path / "other.gif", save_all=True, append_images=[photos["rocket"].resize((400, 400))] * 3)
    assert _json(_run(db, "media", "match", str(tmp_path / "other.gif"), "--json"))[0]["matches"] == []  # type: ignore[index]


def test_a_banked_animation_is_found_by_its_later_frames(tmp_path: Path, photo_files: dict[str, Path],
                                                        photos: dict[str, Image.Image]) -> None:
    # banked as its first frame alone, an animation behind one clean frame was found by neither a still of its
    # content nor a re-cut without the clean frame
    db = tmp_path / "jw.db"
    assert _run(db, "init").exit_code == 0
    clean, content = photos["coffee"].resize((400, 400)), photos["astronaut"].resize((400, 400))
    banked = tmp_path / "banked.gif"
    clean.save(banked, save_all=True, append_images=[content] * 5, duration=100)
    assert _run(db, "media", "add", str(banked), "-t", "propaganda").exit_code == 0
    content.save(tmp_path / "still.png")
    content.save(tmp_path / "recut.webp", save_all=True, append_images=[content] * 3, duration=100)
    for upload in ("still.png", "recut.webp"):
        [outcome] = _json(_run(db, "media", "match", str(tmp_path / upload), "--json"))  # type: ignore[misc]
        assert [(m["item"]["id"], m["method"]) for m in outcome["matches"]] == [(1, "pdq")], upload
    # an unrelated picture matches nothing
    assert _json(_run(db, "media", "match", str(photo_files["rocket"]), "--json"))[0]["matches"] == []  # type: ignore[index]


def test_match_refuses_what_it_cannot_look_at(tmp_path: Path, photo_files: dict[str, Path]) -> None:
    db = tmp_path / "jw.db"
    assert _run(db, "init").exit_code == 0
    assert _run(db, "members", "add", "Agency B").exit_code == 0
    assert _run(db, "media", "add", str(photo_files["astronaut"]), "-t", "propaganda").exit_code == 0
    # an empty folder is no batch: exit 7, never "0 of 0 files matched"
    (tmp_path / "empty").mkdir()
    empty = _run(db, "media", "match", str(tmp_path / "empty"))
    assert empty.exit_code == 7 and "no file under this directory" in empty.output
    # hidden files and linked folders are matched too: a dot must not hide content from the match
    uploads = tmp_path / "uploads"
    (uploads / ".cache").mkdir(parents=True)
    (uploads / ".hidden.png").write_bytes(photo_files["astronaut"].read_bytes())
    (uploads / ".cache" / "x.png").write_bytes(photo_files["astronaut"].read_bytes())
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "y.png").write_bytes(photo_files["astronaut"].read_bytes())
    (uploads / "link").symlink_to(linked, target_is_directory=True)
    (linked / "loop").symlink_to(uploads, target_is_directory=True)   # a loop is walked once
    found = _json(_run(db, "media", "match", str(uploads), "--json"))
    assert sorted(Path(o["path"]).name for o in found if o["matches"]) == [".hidden.png", "x.png", "y.png"]  # type: ignore[index,union-attr]
    # a viewer that disputed every active item has nothing left to match against: exit 9, not "no match"
    assert _run(db, "media", "dispute", "1", "-m", "Agency B", "--reason", "not propaganda").exit_code == 0
    refused = _run(db, "media", "match", str(photo_files["astronaut"]), "--viewer", "Agency B")
    assert refused.exit_code == 9 and "disputed every active item" in refused.output
    assert _run(db, "media", "match", str(photo_files["astronaut"])).exit_code == 0   # the others still match


def test_banking_a_withdrawn_file_again_says_it_still_does_not_match(tmp_path: Path,
                                                                     photo_files: dict[str, Path]) -> None:
    db = tmp_path / "jw.db"
    assert _run(db, "init").exit_code == 0
    assert _run(db, "media", "add", str(photo_files["coffee"]), "-t", "propaganda").exit_code == 0
    assert _run(db, "media", "withdraw", "1", "--reason", "not ours").exit_code == 0
    again = _run(db, "media", "add", str(photo_files["coffee"]), "-t", "propaganda")
    assert again.exit_code == 0, again.output
    assert "item #1 is withdrawn: it does not match" in " ".join(again.output.split())
