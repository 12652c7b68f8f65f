"""What a .vsix holds, for tests/vscode_package.rs: its entries, the bundled binary's Unix mode,
the manifest's target platform and package.json, as JSON on stdout. The binary is extracted
to the directory given, with the mode the archive records (zipfile does not restore it).

Usage: python3 vsix_contents.py PACKAGE.vsix EXTRACT_DIR
"""

import json
import os
import re
import sys
import zipfile

BINARY = "extension/bundled/libs/bin/objgraph-doctest"


def main(package, extract_dir):
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        report = {"entries": names, "binary_mode": None, "extracted": None}
        if BINARY in names:
            info = archive.getinfo(BINARY)
            # The high 16 bits hold the Unix mode when the archive was made on Unix.
            mode = (info.external_attr >> 16) & 0o7777 if info.create_system == 3 else None
            report["binary_mode"] = mode
            extracted = archive.extract(info, extract_dir)
            if mode is not None:
                os.chmod(extracted, mode)
            report["extracted"] = extracted
        manifest = archive.read("extension.vsixmanifest").decode("utf-8")
        found = re.search(r'TargetPlatform="([^"]+)"', manifest)
        report["target_platform"] = found.group(1) if found else None
        report["package_json"] = json.loads(archive.read("extension/package.json"))
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:])
