#!/usr/bin/env bash
# The Kotlin binding tests (tests/kotlin): generates the Kotlin bindings from
# the debug library, compiles them with the tests using Kotlin 2 (npm's
# kotlin-compiler) against Debian's JNA and JUnit 4, and runs them under
# JUnit on the JVM with the library loaded from the build, against the real
# server (tests/python/inspectorate.py starts it and passes its URL and the
# enrolment codes in the environment). Expects scripts/test.sh to have built
# the library, the generator and the server.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
out="$PWD/build/kotlin"
kotlin=build/tools/node_modules/kotlin-compiler
lib="$target/debug/libkiemtra_mobile.so"

# Regenerated every run, like the Python module: stale bindings mis-call silently.
rm -rf "$out"
mkdir -p "$out/src" "$out/classes"
"$target/debug/uniffi-bindgen" generate --library "$lib" --language kotlin --out-dir "$out/src" >/dev/null
cp "$lib" "$out/"

cp_test="/usr/share/java/jna.jar:$kotlin/lib/kotlinx-coroutines-core-jvm.jar:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar"
start=$(date +%s)
nice -n 10 bash "$kotlin/bin/kotlinc" -nowarn -jvm-target 17 -cp "$cp_test" -d "$out/classes" \
  "$out"/src/uniffi/kiemtra_mobile/*.kt tests/kotlin/*.kt
echo "kotlin: compiled in $(($(date +%s) - start)) s"

# jna.library.path: the library as the app ships it, beside the classes.
.venv/bin/python tests/python/inspectorate.py --workdir "$out/run" --worlds walk,cancel,errors -- \
  java -Djna.library.path="$out" -cp "$out/classes:$cp_test:$kotlin/lib/kotlin-stdlib.jar" \
  org.junit.runner.JUnitCore vn.kiemtra.example.KiemtraAppTest
