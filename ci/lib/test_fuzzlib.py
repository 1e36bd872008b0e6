"""Unit tests of ci/lib/fuzzlib.py's crash signatures and coverage check (run by ci/test-workflow:
python3 -m unittest discover -s ci/lib). The stacks are shaped like real ones: ASan's frames as
libFuzzer prints them for a Swift trap, mangled Swift symbols, libFuzzer and AFL++ driver frames."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzlib  # noqa: E402


def stack(*user_frames, runtime=("Swift runtime failure: Index out of range",
                                 "$sSa15_checkSubscript_20wasNativeTypeCheckeds16_DependenceTokenVSi_SbtFs5UInt8V_Tg5",
                                 "$sSayxSicigs5UInt8V_Tg5"), driver="libfuzzer"):
    """A crash report: the crash callback, the runtime frames, the user frames, the driver."""
    head = ["__sanitizer_print_stack_trace /llvm/compiler-rt/lib/asan/asan_stack.cpp:87:3",
            "fuzzer::PrintStackTrace() /llvm/compiler-rt/lib/fuzzer/FuzzerUtil.cpp:210:5",
            "fuzzer::Fuzzer::CrashCallback() /llvm/compiler-rt/lib/fuzzer/FuzzerLoop.cpp:231:3"]
    tail = {"libfuzzer": ["LLVMFuzzerTestOneInput /<compiler-generated>",
                          "fuzzer::Fuzzer::ExecuteCallback(unsigned char const*, unsigned long) /llvm/FuzzerLoop.cpp:619:13",
                          "fuzzer::RunOneTest(fuzzer::Fuzzer*, char const*, unsigned long) /llvm/FuzzerDriver.cpp:329:6",
                          "main /llvm/compiler-rt/lib/fuzzer/FuzzerMain.cpp:20:10",
                          "__libc_start_main csu/../csu/libc-start.c:360:3", "_start"],
            "afl": ["LLVMFuzzerTestOneInput /<compiler-generated>", "LLVMFuzzerRunDriver (/usr/lib/afl/libAFLDriver.a)",
                    "main (/work/FuzzPlanted+0x1234)", "__libc_start_main csu/../csu/libc-start.c:360:3"]}[driver]
    frames = head + list(runtime) + [f"{f} /src/main.swift:4{i}:13" for i, f in enumerate(user_frames)] + tail
    lines = ["==1==ERROR: libFuzzer: deadly signal"]
    lines += [f"    #{i} 0x{0x561fd606d918 + i:x} in {f}" for i, f in enumerate(frames)]
    return "\n".join(lines + ["", "SUMMARY: libFuzzer: deadly signal"]) + "\n"


class Signature(unittest.TestCase):
    def test_two_planted_crashes_behind_one_runtime_frame_stay_two(self):
        a = fuzzlib.signature(stack("$s11FuzzPlanted11plantedTrapyySays5UInt8VGF",
                                    "$s11FuzzPlanted4fuzzys5Int32VSPys5UInt8VG_SitF"))
        b = fuzzlib.signature(stack("$s11FuzzPlanted14plantedOverrunyySays5UInt8VGF",
                                    "$s11FuzzPlanted4fuzzys5Int32VSPys5UInt8VG_SitF"))
        self.assertNotEqual(a, b)
        self.assertEqual(a, "signal:$s11FuzzPlanted11plantedTrapyySays5UInt8VGF|$s11FuzzPlanted4fuzzys5Int32VSPys5UInt8VG_SitF")

    def test_runtime_and_driver_frames_do_not_split_one_crash(self):
        user = ("$s11FuzzPlanted11plantedTrapyySays5UInt8VGF", "$s11FuzzPlanted4fuzzys5Int32VSPys5UInt8VG_SitF")
        via_trap = fuzzlib.signature(stack(*user))
        via_fatal = fuzzlib.signature(stack(*user, runtime=(
            "$ss17_assertionFailure__4file4line5flagss5NeverOs12StaticStringV_SSAHSus6UInt32VtF",
            "Swift.fatalError(_: @autoclosure () -> Swift.String, file: Swift.StaticString, line: Swift.UInt) -> Swift.Never",
            "swift_reportError", "abort", "raise")))
        via_afl = fuzzlib.signature(stack(*user, driver="afl"))
        self.assertEqual(via_trap, via_fatal)
        self.assertEqual(via_trap, via_afl)

    def test_takes_the_top_three_non_runtime_frames(self):
        sig = fuzzlib.signature(stack("f1", "f2", "f3", "f4"))
        self.assertEqual(sig, "signal:f1|f2|f3")

    def test_user_frames_with_runtime_like_words_stay(self):
        for fn in ("abortIfTruncated", "$s10SysPinCore13checkMainPinsyyF", "domain", "raisePin"):
            self.assertFalse(fuzzlib.is_runtime_frame(fn), fn)
        for fn in ("abort", "main", "swift_release", "$ss5printyyF", "$sSa6appendyyxnF",
                   "$s13SysPinFuzzing11FuzzHarnessO3runyyF", "__afl_manual_init", "LLVMFuzzerRunDriver",
                   "__asan::ReportGenericError", "Swift._assertionFailure(...)", "_start"):
            self.assertTrue(fuzzlib.is_runtime_frame(fn), fn)

    def test_invariant_id_wins(self):
        out = "INV-PIN-COMPLETE: pin for read missing\n" + stack("f1")
        self.assertEqual(fuzzlib.signature(out), "INV-PIN-COMPLETE")


class CoverageStart(unittest.TestCase):
    def test_inited_with_cov(self):
        self.assertTrue(fuzzlib.coverage_started("#2\tINITED cov: 12 ft: 13 corp: 1/1b exec/s: 0 rss: 30Mb\n"))

    def test_fork_mode_progress_line(self):
        self.assertTrue(fuzzlib.coverage_started("#1024: cov: 88 ft: 90 corp: 5 exec/s: 100 oom/timeout/crash: 0/0/0\n"))

    def test_inited_without_cov(self):
        text = "#2\tINITED exec/s: 0 rss: 30Mb\n"
        self.assertFalse(fuzzlib.coverage_started(text))
        self.assertTrue(fuzzlib.started(text))

    def test_nothing(self):
        self.assertFalse(fuzzlib.started("error while loading shared libraries\n"))


if __name__ == "__main__":
    unittest.main()
