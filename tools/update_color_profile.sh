#!/usr/bin/env bash
# Regenerates assets/color from Debian packages: the CMYK output profile for offset on coated paper
# (FOGRA39, ISO 12647-2:2004/Amd 1), built with ArgyllCMS's colprof from Fogra's FOGRA39L measurements
# as icc-profiles-free ships them (zlib licence). No Debian package ships a free ready-made FOGRA39 .icc:
# colord-data is built without its print profiles, and Ghostscript's default_cmyk.icc is SWOP and AGPL.
# Nothing is installed: colprof runs from the unpacked .deb; the libraries it links (libtiff, libjpeg,
# libx11) come with poppler-utils, which scripts/bootstrap.sh installs. Takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download icc-profiles-free argyll argyll-ref >/dev/null \
  && for deb in *.deb; do dpkg -x "$deb" root; done)
data_version=$(dpkg-deb -f "$work"/icc-profiles-free_*.deb Version)
argyll_version=$(dpkg-deb -f "$work"/argyll_*.deb Version)
data=usr/share/color/icc/FOGRA39L.ti3
mkdir -p assets/color
cp "$work/root/$data" "$work/FOGRA39L.ti3"
# Black generation and the 300 % total ink limit are colord's for its FOGRA39L_coated.icc; the perceptual
# table maps sRGB onto the print gamut (screen in a typical room -> practical print viewing). -nc: the
# measurements are not embedded in the profile.
(cd "$work" && root/usr/bin/colprof -qm -kp 0 0.3 0.94 0.94 0.48 -l 300 \
  -S root/usr/share/color/argyll/ref/sRGB.icm -cmt -dpp -nc \
  -A "Fogra (characterization data)" -M "FOGRA39" \
  -D "FOGRA39L coated (ArgyllCMS colprof, icc-profiles-free data)" \
  -C "Generated from FOGRA39L.ti3 of icc-profiles-free (zlib licence); see LICENSE-FOGRA39L.txt" \
  -O FOGRA39L_coated.icc FOGRA39L >/dev/null)
# colprof stamps the header with the current time; use the data package's release date instead
# (SOURCE_DATE_EPOCH wins if set), so that the same package versions give the same bytes.
released=$(zcat "$work/root/usr/share/doc/icc-profiles-free/changelog.Debian.gz" | sed -n 's/^ -- .*>  //p' | head -1)
epoch=${SOURCE_DATE_EPOCH:-$(date -u -d "$released" +%s)}
.venv/bin/python - "$work/FOGRA39L_coated.icc" "$epoch" <<'PY'
import struct
import sys
import time

path, epoch = sys.argv[1], int(sys.argv[2])
profile = bytearray(open(path, "rb").read())
assert profile[36:40] == b"acsp" and profile[16:20] == b"CMYK", "not a CMYK ICC profile"
profile[24:36] = struct.pack(">6H", *time.gmtime(epoch)[:6])
open(path, "wb").write(profile)
PY
cp "$work/FOGRA39L_coated.icc" assets/color/FOGRA39L_coated.icc
awk 'BEGIN { RS = ""; ORS = "\n\n" } /^Files: FOGRA/ || /^License: Zlib\n/' \
  "$work/root/usr/share/doc/icc-profiles-free/copyright" | sed 's/^ \.$//; s/^ //' | sed '$d' \
  > assets/color/LICENSE-FOGRA39L.txt
sha=$(sha256sum assets/color/FOGRA39L_coated.icc | cut -d' ' -f1)
cat > assets/color/SOURCE <<EOF
assets/color/FOGRA39L_coated.icc — derived; rebuild with: tools/update_color_profile.sh
  sha256: $sha
  ICC v2 output profile, CMYK -> Lab; device model "FOGRA39", which WeasyPrint writes as the
  PDF/X OutputConditionIdentifier.

Source data: Fogra's FOGRA39L characterization (ISO 12647-2:2004/Amd 1, offset, paper type 1 or 2, coated).
Carried by: the Debian package icc-profiles-free $data_version, file /$data
  (Copyright: Kai-Uwe Behrmann, License: Zlib; text in LICENSE-FOGRA39L.txt).
Processing: colprof from the Debian package argyll $argyll_version (sRGB.icm from argyll-ref),
  options -qm -kp 0 0.3 0.94 0.94 0.48 -l 300 -S sRGB.icm -cmt -dpp -nc; header date set to $(date -u -d "@$epoch" +%F).
EOF
echo "assets/color updated from icc-profiles-free $data_version with argyll $argyll_version"
