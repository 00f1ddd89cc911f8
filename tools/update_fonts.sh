#!/usr/bin/env bash
# Regenerates assets/fonts from Debian's fonts-paratype package (PT Sans, PT Serif by ParaType).
# The files are copied unmodified under descriptive names; the licence travels with them.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download fonts-paratype >/dev/null && dpkg -x fonts-paratype_*.deb root)
version=$(dpkg-deb -f "$work"/fonts-paratype_*.deb Version)
source_dir="$work/root/usr/share/fonts/truetype/paratype"
declare -A FILES=(
  [PTS55F.ttf]=PTSans-Regular.ttf [PTS56F.ttf]=PTSans-Italic.ttf
  [PTS75F.ttf]=PTSans-Bold.ttf [PTS76F.ttf]=PTSans-BoldItalic.ttf
  [PTN57F.ttf]=PTSansNarrow-Regular.ttf [PTN77F.ttf]=PTSansNarrow-Bold.ttf
  [PTF55F.ttf]=PTSerif-Regular.ttf [PTF56F.ttf]=PTSerif-Italic.ttf
  [PTF75F.ttf]=PTSerif-Bold.ttf [PTF76F.ttf]=PTSerif-BoldItalic.ttf
)
for original in "${!FILES[@]}"; do
  cp "$source_dir/$original" "assets/fonts/${FILES[$original]}"
done
sed -n '/^License: ParaType-Free-Font-License/,/^Files: debian/p' \
  "$work/root/usr/share/doc/fonts-paratype/copyright" | sed '$d' | sed 's/^ \.$//; s/^ //' \
  > assets/fonts/LICENSE-ParaType.txt
echo "fonts-paratype $version" > assets/fonts/SOURCE
echo "assets/fonts updated from fonts-paratype $version"
