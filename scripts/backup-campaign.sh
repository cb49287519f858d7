#!/usr/bin/env bash
# backup-campaign.sh: the backup test at full size: a backup taken while
# `phonesim load` enrolls PHONES phones (default 10,000), restored, checked
# for integrity and for every LSC the phones had received before the backup
# started (tests/e2e/backup.sh with OPENCAPF_BACKUP_PHONES). CI runs 300.
#   bash scripts/backup-campaign.sh [PHONES]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
B=build/src/cmd
OPENCAPF=$PWD/$B/opencapf/opencapf OPENCAPFD=$PWD/$B/opencapfd/opencapfd PHONESIM=$PWD/$B/phonesim/phonesim \
	OPENCAPF_BACKUP_PHONES="${1:-10000}" bash tests/e2e/backup.sh
