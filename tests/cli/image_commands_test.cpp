// `otaflash info` and `otaflash verify` on the built binary: exit codes, one-line reasons on
// stderr, and the --json documents.

#include "fixtures.hpp"
#include "image_builder.hpp"
#include "subprocess.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <nlohmann/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace otaflash;
using namespace otaflash::test;
using nlohmann::json;

namespace {

const char* const good_fixtures[] = {"bootloader_esp8266.bin", "esp8266_deepsleep.bin", "helloworld-esp8266.bin",
                                     "bootloader_esp32.bin",   "bootloader_esp32c3.bin", "helloworld-esp32.bin"};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t count_lines(const std::string& text, const std::string& prefix) {
    std::size_t n = 0, pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (text.compare(pos, prefix.size(), prefix) == 0) ++n;
        if (end == std::string::npos) break;
        pos = end + 1;
    }
    return n;
}

json parse_json(const process_result& r) {
    try {
        return json::parse(r.out);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not one JSON document: " << e.what() << "\n" << r.out;
        return json::object();
    }
}

}  // namespace

TEST(Verify, EveryGoodFixturePassesTogether) {
    std::vector<std::string> args{"verify"};
    for (const char* f : good_fixtures) args.push_back(fixture_image(f));
    auto r = run_otaflash(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    for (const char* f : good_fixtures) EXPECT_TRUE(contains(r.out, fixture_image(f) + ": ok (")) << f;
}

TEST(Verify, EditedDigestExitsEightNamingTheCheck) {
    const std::string path = fixture_image("helloworld-esp32_edit.bin");
    auto r = run_otaflash({"verify", path});
    EXPECT_EQ(r.exit_code, 8);
    EXPECT_EQ(count_lines(r.err, "error: "), 1u) << r.err;
    EXPECT_TRUE(contains(r.err, "error: " + path + ": SHA-256 digest mismatch at offset 0x00000060 (stored "
                                                   "8ff3e6430a3ea49ec072aff7b73fe7b881ff47b8e019936385938d4bfb3a9ba9, "
                                                   "computed 8ff3e6430a3ea49ec072aff7b73fe7b881ff47b8f619936385938d4bfb3a9ba9)"))
        << r.err;
    EXPECT_TRUE(contains(r.err, "hint: ")) << r.err;
    EXPECT_TRUE(contains(r.out, "FAIL  SHA-256 digest mismatch")) << r.out;
}

TEST(Verify, JsonListsEveryFileWithItsChecks) {
    auto r = run_otaflash({"--json", "verify", fixture_image("helloworld-esp32.bin"),
                           fixture_image("helloworld-esp32_edit.bin")});
    EXPECT_EQ(r.exit_code, 8);
    const json doc = parse_json(r);
    EXPECT_EQ(doc["schema"], "otaflash/v1");
    EXPECT_EQ(doc["command"], "verify");
    EXPECT_EQ(doc["ok"], false);
    EXPECT_EQ(doc["exit_code"], 8);
    EXPECT_EQ(doc["error"]["code"], "image_check_failed");
    EXPECT_EQ(doc["error"]["condition"], "verification");
    const json& files = doc["result"]["files"];
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0]["path"], fixture_image("helloworld-esp32.bin"));
    EXPECT_EQ(files[0]["ok"], true);
    EXPECT_EQ(files[0]["chip"], "esp32");
    EXPECT_EQ(files[1]["ok"], false);
    EXPECT_EQ(doc["result"]["passed"], 1);
    EXPECT_EQ(doc["result"]["failed"], 1);
    bool saw_bad_sha = false;
    for (const auto& c : files[1]["checks"]) {
        ASSERT_TRUE(c.contains("name") && c.contains("ok") && c.contains("detail"));
        if (c["name"] == "sha256") {
            saw_bad_sha = true;
            EXPECT_EQ(c["ok"], false);
            EXPECT_EQ(c["code"], "image_check_failed");
        } else {
            EXPECT_EQ(c["ok"], true) << c.dump();
        }
    }
    EXPECT_TRUE(saw_bad_sha);
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(Verify, ChipMismatchExitsFour) {
    const std::string path = fixture_image("helloworld-esp32.bin");
    auto r = run_otaflash({"verify", "--chip", "esp32-c3", path});
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_TRUE(contains(r.err, "error: " + path + ": built for esp32, not esp32c3")) << r.err;

    r = run_otaflash({"--json", "verify", "--chip", "ESP32", path});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    r = run_otaflash({"--json", "verify", "--chip", "esp32s3", path});
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_EQ(parse_json(r)["error"]["code"], "chip_mismatch");
}

TEST(Verify, ChipFromTheEnvironment) {
    process_options env;
    env.env["OTAFLASH_CHIP"] = "esp8266";
    auto r = run_otaflash({"verify", fixture_image("helloworld-esp32.bin")}, env);
    EXPECT_EQ(r.exit_code, 4) << r.err;
}

TEST(Verify, UnknownChipNameIsAUsageError) {
    auto r = run_otaflash({"verify", "--chip", "esp99", fixture_image("helloworld-esp32.bin")});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(contains(r.err, "unknown chip 'esp99'")) << r.err;
    EXPECT_TRUE(contains(r.err, "esp32c3")) << r.err;
}

TEST(Verify, MissingEmptyDirectoryRandomAndFilesystemInputsExitFour) {
    temp_dir dir;
    const std::string empty = dir.write("empty.bin", std::string{});
    const std::string random = dir.write("random.bin", std::string("\x13\x37 not firmware at all, just text\n"));
    bytes lfs(4096, 0xFF);
    std::copy_n("littlefs", 8, lfs.begin() + 8);
    const std::string littlefs = dir.write("littlefs.bin", lfs);
    const std::pair<std::string, std::string> cases[] = {
        {dir.file("missing.bin"), "no such file"},
        {empty, "is empty"},
        {dir.path(), "is a directory"},
        {random, "first byte is 0x13"},
        {littlefs, "LittleFS filesystem image"},
    };
    for (const auto& [path, reason] : cases) {
        auto r = run_otaflash({"verify", path});
        EXPECT_EQ(r.exit_code, 4) << path << "\n" << r.err;
        EXPECT_EQ(count_lines(r.err, "error: "), 1u) << r.err;
        EXPECT_TRUE(contains(r.err, reason)) << path << "\n" << r.err;
        EXPECT_TRUE(contains(r.err, path)) << r.err;
    }
}

// A FIFO (or a device node) would block in open() until a writer comes, and Ctrl-C could not end
// that: the file type is checked before anything is opened.
// Issue 12 item 17: the first bytes decide before the rest is read. A 64 MiB sparse file (zeros)
// cost ~72 MB of memory when read whole; under a 32 MiB data limit that was std::bad_alloc.
TEST(Verify, SparseFileIsRefusedFromItsFirstBytesWithoutReadingItAll) {
    const std::string prlimit = "/usr/bin/prlimit";  // util-linux
    if (!std::filesystem::exists(prlimit)) GTEST_SKIP() << "needs " << prlimit;
    temp_dir dir;
    const std::string disk = dir.file("disk.img");
    { std::ofstream(disk, std::ios::binary); }
    std::filesystem::resize_file(disk, 64u << 20);
    const std::vector<std::string> commands[] = {
        {"verify", disk},
        {"info", disk},
        {"push", "--non-interactive", disk, "127.0.0.1"},
    };
    for (const auto& args : commands) {
        std::vector<std::string> argv = {prlimit, "--data=" + std::to_string(32u << 20), bin_path("otaflash")};
        argv.insert(argv.end(), args.begin(), args.end());
        auto r = run_process(argv);
        EXPECT_EQ(r.exit_code, 4) << args.front() << "\n" << r.err;
        EXPECT_TRUE(contains(r.out + r.err, "first byte is 0x00 at offset 0x00000000")) << args.front() << "\n" << r.err;
    }
}

TEST(Verify, FifoIsRefusedWithExitFourInsteadOfHanging) {
    temp_dir dir;
    const std::string fifo = dir.file("image.fifo");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    process_options opts;
    opts.timeout = std::chrono::milliseconds(60000);
    const std::vector<std::string> commands[] = {
        {"verify", fifo},
        {"info", fifo},
        {"push", "--non-interactive", fifo, "127.0.0.1"},
    };
    for (const auto& args : commands) {
        auto r = run_otaflash(args, opts);
        EXPECT_FALSE(r.timed_out) << args.front() << " hung on a FIFO";
        EXPECT_EQ(r.exit_code, 4) << args.front() << "\n" << r.err;
        EXPECT_TRUE(contains(r.err, fifo + " is not a regular file (a FIFO)")) << r.err;
    }
}

TEST(Verify, MixedFailuresReportTheMostSevere) {
    temp_dir dir;
    const std::string edit = fixture_image("helloworld-esp32_edit.bin");
    const std::string good = fixture_image("helloworld-esp32.bin");
    const std::string missing = dir.file("missing.bin");

    auto r = run_otaflash({"verify", edit, good});
    EXPECT_EQ(r.exit_code, 8);

    r = run_otaflash({"--json", "verify", edit, missing, good});
    EXPECT_EQ(r.exit_code, 4);  // invalid input outranks a failed check
    const json doc = parse_json(r);
    EXPECT_EQ(doc["error"]["code"], "file_not_found");
    EXPECT_TRUE(contains(doc["error"]["message"].get<std::string>(), "1 more failure; 2 of 3 files failed"))
        << doc["error"]["message"];
    EXPECT_EQ(doc["result"]["files"][1]["error"]["code"], "file_not_found");
    EXPECT_EQ(doc["result"]["failed"], 2);
}

TEST(Verify, GzipAndMergedFilesAreVerifiedInside) {
    temp_dir dir;
    const std::string gz = dir.write("app.bin.gz", gzip_compress(read_fixture_image("helloworld-esp32.bin")));
    const std::string bad_gz = dir.write("bad.bin.gz", gzip_compress(read_fixture_image("helloworld-esp32_edit.bin")));
    image_spec boot;
    boot.target = chip::esp32c3;
    image_spec app = boot;
    app.app = app_desc_spec{};
    bytes merged = build_merged(chip::esp32c3, build_image(boot), build_partition_table(default_partitions()),
                                {{0x10000, build_image(app)}});
    const std::string good_merged = dir.write("factory.bin", merged);
    merged[0x8000 + 70] ^= 1;
    const std::string bad_merged = dir.write("factory-bad-table.bin", merged);

    auto r = run_otaflash({"verify", gz, good_merged});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "gzip-compressed esp32 image")) << r.out;
    EXPECT_TRUE(contains(r.out, "esp32c3 merged flash image")) << r.out;

    r = run_otaflash({"verify", bad_gz});
    EXPECT_EQ(r.exit_code, 8);
    r = run_otaflash({"verify", bad_merged});
    EXPECT_EQ(r.exit_code, 8);
    EXPECT_TRUE(contains(r.err, "partition_table@0x00008000: partition table MD5 mismatch")) << r.err;
}

TEST(Info, EveryFixtureIsDescribed) {
    for (const char* f : good_fixtures) {
        auto r = run_otaflash({"info", fixture_image(f)});
        EXPECT_EQ(r.exit_code, 0) << f << r.err;
        for (const char* key : {"File", "SHA-256", "Entry point", "Segments", "Flash mode", "Checksum", "Load address"})
            EXPECT_TRUE(contains(r.out, key)) << f << " lacks " << key;
    }
    auto r = run_otaflash({"info", fixture_image("bootloader_esp8266.bin")});
    EXPECT_TRUE(contains(r.out, "0x00000574  0x40100000    0x00000008            IRAM")) << r.out;
    EXPECT_TRUE(contains(r.out, "8ba27abd6c92af0a454fd73b895ed9c0d6e6a26f0ea6b53cf191aa8932ba75fb")) << r.out;
}

TEST(Info, EditedImageIsDescribedWithItsFailedCheckButSucceeds) {
    auto r = run_otaflash({"info", fixture_image("helloworld-esp32_edit.bin")});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(contains(r.out, "INVALID")) << r.out;
    EXPECT_TRUE(contains(r.out, "FAIL")) << r.out;
}

TEST(Info, JsonCarriesTheFactsOfTheC3Bootloader) {
    auto r = run_otaflash({"info", "--json", fixture_image("bootloader_esp32c3.bin")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const json doc = parse_json(r);
    EXPECT_EQ(doc["command"], "info");
    const json& res = doc["result"];
    EXPECT_EQ(res["size"], 17744);
    EXPECT_EQ(res["sha256"], "ec4834595c67a4d353c2516df35e37f9152bb4de12d4d4671fe35a08b51cc9d5");
    EXPECT_EQ(res["chip"], "esp32c3");
    EXPECT_EQ(res["kind"], "image");
    const json& im = res["images"][0];
    EXPECT_EQ(im["entry"], "0x403c0000");
    EXPECT_EQ(im["segment_count"], 4);
    EXPECT_EQ(im["checksum"]["stored"], "0x77");
    EXPECT_EQ(im["checksum"]["valid"], true);
    EXPECT_EQ(im["sha256"]["stored"], "4faeab1bd3fd6a7d4adfa0fd38f41bfc67a8c3c0a9d6d882b65580da2e5e6347");
    EXPECT_EQ(im["sha256"]["valid"], true);
    EXPECT_EQ(im["extended_header"]["min_chip_rev"], "v0.0");
    EXPECT_EQ(im["extended_header"]["max_chip_rev"], "v0.0");
    EXPECT_EQ(im["segments"].size(), 4u);
    EXPECT_EQ(im["segments"][0]["file_offset"], "0x00000018");
}

TEST(Info, AppImagesOfOtherChipsShowTheirDescriptor) {
    temp_dir dir;
    for (chip c : {chip::esp32s3, chip::esp32c6, chip::esp32h2, chip::esp32p4}) {
        image_spec spec;
        spec.target = c;
        app_desc_spec app;
        app.version = "3.1.4";
        app.project_name = "thermostat";
        app.idf_version = "v5.3.2";
        spec.app = app;
        const std::string path = dir.write(std::string{name(c)} + ".bin", build_image(spec));
        auto r = run_otaflash({"info", "--json", path});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        const json doc = parse_json(r);
        EXPECT_EQ(doc["result"]["chip"], name(c));
        const json& desc = doc["result"]["images"][0]["app_descriptor"];
        EXPECT_EQ(desc["version"], "3.1.4") << name(c);
        EXPECT_EQ(desc["project_name"], "thermostat") << name(c);
        EXPECT_EQ(desc["idf_version"], "v5.3.2") << name(c);

        auto text = run_otaflash({"info", path});
        EXPECT_TRUE(contains(text.out, "thermostat")) << text.out;
        EXPECT_TRUE(contains(text.out, "Chip             " + std::string{name(c)})) << text.out;
    }
}

TEST(Info, MergedFilePrintsThePartitionTable) {
    temp_dir dir;
    image_spec boot;
    boot.target = chip::esp32;
    image_spec app = boot;
    app.app = app_desc_spec{};
    const std::string path = dir.write("factory.bin", build_merged(chip::esp32, build_image(boot),
                                                                   build_partition_table(default_partitions()),
                                                                   {{0x10000, build_image(app)}}));
    auto r = run_otaflash({"info", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "Partition table at 0x00008000 (MD5 ")) << r.out;
    EXPECT_TRUE(contains(r.out, "factory   app   factory  0x00010000  0x00100000")) << r.out;
    EXPECT_TRUE(contains(r.out, "bootloader at 0x00001000")) << r.out;

    r = run_otaflash({"--json", "info", path});
    const json doc = parse_json(r);
    EXPECT_EQ(doc["result"]["kind"], "merged");
    EXPECT_EQ(doc["result"]["partition_table"]["entries"][2]["label"], "factory");
    EXPECT_EQ(doc["result"]["partition_table"]["md5"]["valid"], true);
}

TEST(Info, GzipAndNotAnImage) {
    temp_dir dir;
    const std::string gz = dir.write("fw.bin.gz", gzip_compress(read_fixture_image("helloworld-esp8266.bin")));
    auto r = run_otaflash({"info", gz});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "gzip-compressed esp8266 image")) << r.out;

    const std::string text = dir.write("notes.txt", std::string("hello"));
    r = run_otaflash({"info", text});
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_TRUE(contains(r.err, "error: " + text + ": first byte is 0x68")) << r.err;
    r = run_otaflash({"--json", "info", text});
    EXPECT_EQ(parse_json(r)["error"]["code"], "not_an_image");
}

// verify's audit record: each file by size and SHA-256, its result and the failed checks.
TEST(Verify, LogFileRecordsEveryFileAndTheOutcome) {
    temp_dir dir;
    const std::string log = dir.file("verify.log");
    const std::string good = fixture_image("helloworld-esp32.bin");
    const std::string edited = fixture_image("helloworld-esp32_edit.bin");
    auto r = run_otaflash({"--log-file", log, "verify", good, edited});
    EXPECT_EQ(r.exit_code, 8);
    const auto bytes = slurp(log);
    const std::string text(bytes.begin(), bytes.end());
    const auto data = read_fixture_image("helloworld-esp32.bin");
    EXPECT_TRUE(contains(text, " verify: exit 8 in ")) << text;
    EXPECT_TRUE(contains(text, "verification (image_check_failed, exit 8): " + edited)) << text;
    EXPECT_TRUE(contains(text, "file " + good + " (" + std::to_string(data.size()) + " bytes, sha256 " +
                                   to_hex(sha256(data)) + "): ok, esp32 image")) << text;
    EXPECT_TRUE(contains(text, "file " + edited + " (")) << text;
    EXPECT_TRUE(contains(text, "): FAILED, esp32 image; failed check sha256: ")) << text;
}

// A mistyped folder must not swallow a factory's audit records: exit 9, and no folder appears.
TEST(Verify, LogFileInAMissingFolderIsAnErrorAndNothingIsCreated) {
    temp_dir dir;
    const std::string folder = dir.file("no-such-folder");
    auto r = run_otaflash({"--log-file", folder + "/audit.log", "verify", fixture_image("helloworld-esp32.bin")});
    EXPECT_EQ(r.exit_code, 9) << r.err;
    EXPECT_TRUE(contains(r.err, "the folder " + folder + " does not exist")) << r.err;
    struct stat st{};
    EXPECT_NE(::stat(folder.c_str(), &st), 0) << "the folder was created";
}
