"""Named weights: the official DMVFN releases, the small DMVFN bundled with framepred, and URLs.

:func:`resolve_weights` turns what a user gives to ``--weights`` (or ``--init``) into a local file:

* a path to an existing file: used as it is;
* a registered name (``framepred weights list``): ``framepred-dmvfn-small`` ships inside the package;
  ``dmvfn-city``, ``dmvfn-kitti`` and ``dmvfn-vimeo`` are the authors' releases, downloaded on first
  use from their Google Drive files (with gdown) or from a mirror (``FRAMEPRED_WEIGHTS_URL=BASE``
  fetches ``BASE/<file name>``; ``FRAMEPRED_WEIGHTS_URL_DMVFN_CITY=URL`` overrides one name);
* an ``http(s)://`` URL, optionally ending in ``#sha256=<hex>``: downloaded once and cached.

Downloads land in the framepred home (``FRAMEPRED_HOME``, default ``$XDG_CACHE_HOME/framepred`` or
``~/.cache/framepred``), under ``weights/``. A file is moved there only after it arrived whole, is not
a web page, has the expected SHA-256 (when one is known) and loads into its model (the loader's
key/shape check), so nothing half-written or foreign is ever in the cache. The SHA-256 of every
file is recorded at first download (``weights/records.json``) and checked on every later use.
``FRAMEPRED_OFFLINE=1`` forbids downloads.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framepred.errors import CheckpointError, FramepredError, WeightsMissingError
from framepred.io.atomic import write_text_atomic
from framepred.io.download import TerminalProgress, http_download, sha256_of

Announce = Callable[[str], None]

# The authors' Drive folder and the three file ids their README downloads with gdown. The README does
# not say which id holds which release; the names Drive reports for them do (find_drive_file).
DRIVE_FOLDER = "https://drive.google.com/drive/folders/1QnsnTVU-2IexFNjGhNVRYPqKNviAbkwH"
DRIVE_IDS = (
    "1jILbS8Gm4E5Xx4tDCPZh_7rId0eo8r9W",
    "1WrV30prRiS4hWOQBnVPUxdaTlp9XxmVK",
    "14_xQ3Yl3mO89hr28hbcQW3h63lLrcYY0",
)
# The repository's licence; the weights carry none of their own (see docs/weights.md).
OFFICIAL_LICENCE = "MIT (repo)"
BUNDLED_NAME = "framepred-dmvfn-small"
DEFAULT_NAME = "dmvfn-city"


@dataclass(frozen=True)
class NamedWeights:
    name: str
    file_name: str
    source: str  # "google-drive" or "bundled"
    licence: str
    description: str
    drive_ids: tuple[str, ...] = ()  # ids to ask Drive about, the likely one first

    @property
    def bundled(self) -> bool:
        return self.source == "bundled"


def _official(name: str, file_name: str, likely_id: str, description: str) -> NamedWeights:
    ids = (likely_id, *(i for i in DRIVE_IDS if i != likely_id))
    return NamedWeights(name, file_name, "google-drive", OFFICIAL_LICENCE, description, ids)


NAMES: dict[str, NamedWeights] = {
    entry.name: entry
    for entry in (
        _official("dmvfn-city", "dmvfn_city.pkl", DRIVE_IDS[0], "official DMVFN, trained on Cityscapes"),
        _official("dmvfn-kitti", "dmvfn_kitti.pkl", DRIVE_IDS[1], "official DMVFN, trained on KITTI"),
        _official(
            "dmvfn-vimeo",
            "dmvfn_vimeo.pkl",
            DRIVE_IDS[2],
            "official DMVFN for DAVIS/Vimeo, trained on UCF101 (the authors, issue #4)",
        ),  # fmt: skip
        NamedWeights(
            BUNDLED_NAME,
            f"{BUNDLED_NAME}.safetensors",
            "bundled",
            "Apache-2.0",
            "small DMVFN trained by framepred, ships inside the package (works offline)",
        ),  # fmt: skip
    )
}


# ---- where files live ---------------------------------------------------------------------------


def framepred_home() -> Path:
    """``$FRAMEPRED_HOME``, else ``$XDG_CACHE_HOME/framepred``, else ``~/.cache/framepred``."""
    home = os.environ.get("FRAMEPRED_HOME")
    if home:
        return Path(home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(cache).expanduser() / "framepred"


def weights_dir() -> Path:
    return framepred_home() / "weights"


def _partial_dir() -> Path:
    return weights_dir() / ".partial"  # hidden: unfinished downloads, kept for a resume


def _records_path() -> Path:
    return weights_dir() / "records.json"


def bundled_dir() -> Path:
    return Path(__file__).resolve().parent / "bundled"


def bundled_card() -> dict[str, Any]:
    """The bundled model's card (data, recipe, measured scores, SHA-256)."""
    path = bundled_dir() / f"{BUNDLED_NAME}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CheckpointError(
            f"{path}: the bundled model's card is missing or damaged ({error}); reinstall framepred"
        ) from None


def local_path(entry: NamedWeights) -> Path:
    """Where the file of ``entry`` is (bundled) or must be (downloaded, or put there by hand)."""
    if entry.bundled:
        return bundled_dir() / entry.file_name
    return weights_dir() / entry.file_name


def _url_path(url: str) -> Path:
    plain = url.split("#", 1)[0]
    base = os.path.basename(urllib.parse.urlparse(plain).path) or "weights"
    return weights_dir() / "url" / hashlib.sha256(plain.encode()).hexdigest()[:16] / base


# ---- the record of SHA-256s ---------------------------------------------------------------------


def _read_records() -> dict[str, dict[str, Any]]:
    path = _records_path()
    if not path.is_file():
        return {}
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CheckpointError(
            f"{path}: damaged ({error}); delete it (the files are checked again and re-recorded)"
        ) from None
    return records if isinstance(records, dict) else {}


def _record(key: str, path: Path, digest: str, source: str) -> None:
    records = _read_records()
    records[key] = {
        "file": str(path.relative_to(weights_dir())),
        "sha256": digest,
        "size": path.stat().st_size,
        "source": source,
        "recorded": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    write_text_atomic(_records_path(), json.dumps(records, indent=2, sort_keys=True) + "\n")


def _lock() -> Any:
    from filelock import FileLock  # torch's own dependency

    folder = weights_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / ".lock"), timeout=600)
        lock.acquire()
    except (OSError, TimeoutError) as error:
        raise CheckpointError(
            f"{folder}: cannot use the weights cache ({error}); set FRAMEPRED_HOME to a writable folder"
        ) from None
    lock.release()  # acquired once to check; the caller holds it with `with`
    return lock


# ---- resolving ----------------------------------------------------------------------------------


def _is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def _stderr_line(message: str) -> None:
    import sys

    print(message, file=sys.stderr, flush=True)


def resolve_weights(spec: str | os.PathLike, announce: Announce | None = None) -> Path:
    """A local weight file for ``spec``: a file path, a registered name, or an http(s) URL.

    Named and URL weights are downloaded on first use and checked (SHA-256, loadable) on every use.
    ``announce`` receives one-line notices (a download starting, a hand-placed file recorded);
    by default they go to stderr.
    """
    announce = announce or _stderr_line
    text = os.fspath(spec)
    if _is_url(text):
        return _resolve_url(text, announce)
    path = Path(text).expanduser()
    if path.is_file():
        return path
    entry = NAMES.get(text)
    if entry is not None:
        return _resolve_named(entry, announce)
    if path.exists():
        return path  # a folder: the loader says what to give instead
    names = ", ".join(NAMES)
    raise CheckpointError(
        f"{text}: does not exist, and is not a weights name ({names}) or an http(s):// URL; "
        "give the path of a checkpoint file, a name from `framepred weights list`, or a URL"
    )


def _resolve_named(entry: NamedWeights, announce: Announce, force: bool = False) -> Path:
    if entry.bundled:
        return _check_bundled(entry)
    target = local_path(entry)
    with _lock():
        if target.is_file() and not force:
            return _check_cached(entry.name, target, announce)
        return _download_named(entry, target, announce, force)


def _resolve_url(url: str, announce: Announce, force: bool = False) -> Path:
    plain, _, fragment = url.partition("#")
    expected = fragment[len("sha256=") :].lower() if fragment.startswith("sha256=") else None
    target = _url_path(url)
    key = f"url:{plain}"
    with _lock():
        if target.is_file() and not force:
            path = _check_cached(key, target, announce)
            if expected and _read_records()[key]["sha256"] != expected:
                raise CheckpointError(
                    f"{target}: cached from {plain} with another SHA-256 than the URL's #sha256=; "
                    f"delete the file and try again"
                )
            return path
        fix = f"download it by hand and give its path to --weights (or put it at {target})"
        what = f"{os.path.basename(target)} ({plain})"
        recorded = None if force else _read_records().get(key, {}).get("sha256")
        part = _partial_dir() / f"url-{target.parent.name}-{target.name}.part"
        with TerminalProgress(f"downloading {target.name}") as progress:
            digest = http_download(
                plain, part, what=what, fix=fix, expected_sha256=expected or recorded, progress=progress,
                on_connect=_once(lambda: announce(f"downloading {plain} to {target}")),
            )  # fmt: skip
        return _install(part, target, key, digest, plain, what, fix)


def _once(action: Callable[[], None]) -> Callable[[], None]:
    """``action`` the first time only (a resumed download connects again)."""
    done = []

    def run() -> None:
        if not done:
            done.append(True)
            action()

    return run


def _check_bundled(entry: NamedWeights) -> Path:
    path = local_path(entry)
    if not path.is_file():
        raise WeightsMissingError(
            f"{path}: the bundled model is missing from this install; reinstall framepred"
        )
    expected = bundled_card().get("sha256")
    digest = sha256_of(path)
    if expected and digest != expected:
        raise CheckpointError(
            f"{path}: the bundled model is damaged (SHA-256 {digest}, its card says {expected}); "
            "reinstall framepred"
        )
    return path


def _check_cached(key: str, path: Path, announce: Announce) -> Path:
    """The SHA-256 recorded at first download must still match; a file put there by hand is checked
    by loading it, then recorded."""
    record = _read_records().get(key)
    if record is None:
        _check_loads(path, f"{path} (not downloaded by framepred)", "replace it with the right file")
        digest = sha256_of(path)
        _record(key, path, digest, "manual")
        announce(f"{path}: not downloaded by framepred; it loads, SHA-256 {digest} recorded")
        return path
    digest = sha256_of(path)
    if digest != record["sha256"]:
        name = key if not key.startswith("url:") else key[4:]
        raise CheckpointError(
            f"{path}: changed since it was recorded on {record.get('recorded', '?')} (SHA-256 {digest}, "
            f"recorded {record['sha256']}); delete it and run `framepred weights download {name}`"
        )
    return path


def _fix_for(entry: NamedWeights, target: Path) -> str:
    return (
        f"download {entry.file_name} by hand from {DRIVE_FOLDER} and put it at {target} "
        "(or set FRAMEPRED_WEIGHTS_URL to a mirror)"
    )


def mirror_url(entry: NamedWeights) -> str | None:
    """``FRAMEPRED_WEIGHTS_URL_<NAME>`` (a full URL), else ``FRAMEPRED_WEIGHTS_URL/<file name>``."""
    own = os.environ.get("FRAMEPRED_WEIGHTS_URL_" + entry.name.upper().replace("-", "_"))
    if own:
        return own
    base = os.environ.get("FRAMEPRED_WEIGHTS_URL")
    if base:
        return base.rstrip("/") + "/" + entry.file_name
    return None


def offline() -> bool:
    return os.environ.get("FRAMEPRED_OFFLINE", "").lower() not in ("", "0", "false", "no")


def _download_named(entry: NamedWeights, target: Path, announce: Announce, force: bool) -> Path:
    fix = _fix_for(entry, target)
    what = f"{entry.name} ({entry.file_name})"
    if offline():
        raise WeightsMissingError(f"{what}: not downloaded yet and FRAMEPRED_OFFLINE is set; {fix}")
    recorded = None if force else _read_records().get(entry.name, {}).get("sha256")
    url = mirror_url(entry)
    with TerminalProgress(f"downloading {entry.file_name}") as progress:
        if url is not None:
            part = _partial_dir() / f"{entry.file_name}.part"
            notice = _once(lambda: announce(f"downloading {entry.name} from {url} to {target}"))
            digest = http_download(
                url, part, what=what, fix=fix, expected_sha256=recorded, progress=progress, on_connect=notice
            )
            source = url
        else:
            from framepred.io.gdrive import drive_download, find_drive_file

            drive_id = find_drive_file(entry.drive_ids, entry.file_name, what, fix)
            announce(f"downloading {entry.name} from Google Drive (id {drive_id}) to {target}")
            part = drive_download(drive_id, entry.file_name, _partial_dir() / "drive", what, fix, progress)
            digest = sha256_of(part)
            source = f"google-drive:{drive_id}"
            if recorded is not None and digest != recorded:
                part.unlink()
                raise CheckpointError(
                    f"{what}: the new download has SHA-256 {digest}, not the {recorded} recorded at first "
                    f"download; nothing was kept; `framepred weights download {entry.name} --force` "
                    "accepts the new file"
                )
    return _install(part, target, entry.name, digest, source, what, fix)


def _install(part: Path, target: Path, key: str, digest: str, source: str, what: str, fix: str) -> Path:
    """Check that ``part`` loads, then move it to ``target`` and record its SHA-256."""
    try:
        _check_loads(part, what, f"nothing was kept; {fix}")
    except CheckpointError:
        part.unlink(missing_ok=True)
        raise
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, target)
    _record(key, target, digest, source)
    return target


def _check_loads(path: Path, what: str, fix: str) -> None:
    from framepred.models.checkpoint import load_model

    try:
        load_model(path)
    except CheckpointError as error:
        raise CheckpointError(f"{what}: the file does not load as a model ({error}); {fix}") from None


# ---- what commands show -------------------------------------------------------------------------


def weights_info(entry: NamedWeights) -> dict[str, Any]:
    """One row of ``framepred weights list``."""
    path = local_path(entry)
    cached = path.is_file()
    if entry.bundled:
        sha256 = bundled_card().get("sha256") if cached else None
    else:
        sha256 = _read_records().get(entry.name, {}).get("sha256") if cached else None
    return {
        "name": entry.name,
        "source": entry.source,
        "file": entry.file_name,
        "licence": entry.licence,
        "description": entry.description,
        "cached": cached,
        "size": path.stat().st_size if cached else None,
        "sha256": sha256,
        "path": str(path),
    }


def list_weights() -> list[dict[str, Any]]:
    return [weights_info(entry) for entry in NAMES.values()]


def named_entry(name: str) -> NamedWeights:
    entry = NAMES.get(name)
    if entry is None:
        raise CheckpointError(f"{name}: not a weights name; choose one of {', '.join(NAMES)}")
    return entry


def download_weights(name: str, force: bool = False, announce: Announce | None = None) -> dict[str, Any]:
    """Make sure the file of ``name`` (or an http(s) URL) is in the cache and checked; its info."""
    announce = announce or _stderr_line
    if _is_url(name):
        path = _resolve_url(name, announce, force)
        record = _read_records()[f"url:{name.partition('#')[0]}"]
        return {"name": name, "path": str(path), "sha256": record["sha256"], "size": record["size"]}
    entry = named_entry(name)
    _resolve_named(entry, announce, force=force)
    return weights_info(entry)


# ---- the default of predict and rollout ---------------------------------------------------------


def default_weights(announce: Announce | None = None) -> tuple[Path, str]:
    """``dmvfn-city`` when it is cached or can be downloaded, else the bundled model; and one line
    saying which was chosen (and why)."""
    announce = announce or _stderr_line
    entry = NAMES[DEFAULT_NAME]
    target = local_path(entry)
    reason = None
    if not target.is_file():
        from framepred.io.gdrive import INSTALL_HINT, gdown_available

        if offline():
            reason = "not downloaded and FRAMEPRED_OFFLINE is set"
        elif mirror_url(entry) is None and not gdown_available():
            reason = f"not downloaded, and fetching it needs gdown: {INSTALL_HINT}"
    if reason is None:
        try:
            path = _resolve_named(entry, announce)
            return path, f"weights: {entry.name} ({entry.description}) from {path}"
        except FramepredError as error:
            reason = str(error)
    bundled = NAMES[BUNDLED_NAME]
    path = _check_bundled(bundled)
    return path, f"weights: {bundled.name}, the small model bundled with framepred ({entry.name}: {reason})"
