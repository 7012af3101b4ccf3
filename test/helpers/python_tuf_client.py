"""python-tuf's ngclient reading a published edgeseal repository from disk (no network).

usage: python_tuf_client.py PUBLISHED_DIR TRUSTED_ROOT TARGET_NAME WORK_DIR
prints {"target": NAME, "length": N, "sha256": HEX} on success; exits 1 with the error otherwise.
"""
import json
import os
import shutil
import sys

from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient import FetcherInterface, Updater


class DirFetcher(FetcherInterface):
    """Maps file:// URLs to files; a missing file is a 404, as an HTTP mirror would say."""

    def _fetch(self, url):
        path = url[len("file://"):]
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise DownloadHTTPError(f"{path} not found", 404)
        return iter([data])


def main():
    published, trusted_root, name, work = sys.argv[1:5]
    meta_dir = os.path.join(work, "metadata")
    os.makedirs(meta_dir, exist_ok=True)
    shutil.copy(trusted_root, os.path.join(meta_dir, "root.json"))
    updater = Updater(
        metadata_dir=meta_dir,
        metadata_base_url="file://" + os.path.join(published, "metadata") + "/",
        target_dir=os.path.join(work, "downloads"),
        target_base_url="file://" + os.path.join(published, "targets") + "/",
        fetcher=DirFetcher(),
    )
    os.makedirs(os.path.join(work, "downloads"), exist_ok=True)
    updater.refresh()
    info = updater.get_targetinfo(name)
    if info is None:
        print(f"target {name} not found", file=sys.stderr)
        sys.exit(1)
    updater.download_target(info)
    print(json.dumps({"target": name, "length": info.length, "sha256": info.hashes["sha256"]}))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report any refusal as one line for the test
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
