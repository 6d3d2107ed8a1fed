#!/bin/sh
# Creates the buckets named in WEIR_S3_BUCKETS (a bucket of the posix backend is a
# directory), then serves /data over S3 on :7070 in the foreground.
set -eu
for bucket in ${WEIR_S3_BUCKETS:-weir}; do mkdir -p "/data/$bucket"; done
exec versitygw --quiet --port :7070 --access "${WEIR_S3_ACCESS_KEY:?}" --secret "${WEIR_S3_SECRET_KEY:?}" posix /data
