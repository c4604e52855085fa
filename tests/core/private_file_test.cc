// core/private_file.{h,cc}: a secret is read only from a regular file of mode 0600 or stricter
// owned by us; every refusal says why without the path and without the content.
#include "core/private_file.h"
#include "tests/support/require.h"
#include "tests/support/temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

namespace {

class PrivateFile : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(tmp_.path().empty()) << "mkdtemp failed"; }
  // A file holding `content` with permission bits `mode`.
  std::string make(const std::string& name, const std::string& content, mode_t mode) {
    const std::string p = tmp_.write(name, content);
    EXPECT_EQ(::chmod(p.c_str(), mode), 0);
    return p;
  }
  shadow::test_support::TempDir tmp_{"private_file_test"};
};

TEST_F(PrivateFile, ReadsA0600Or0400FileOfOurs) {
  std::string out = "old", error;
  ASSERT_TRUE(shadow::read_private_file(make("rw", "hunter2\n", 0600), 64, out, error)) << error;
  EXPECT_EQ(out, "hunter2\n");
  ASSERT_TRUE(shadow::read_private_file(make("ro", "s3cret", 0400), 64, out, error)) << error;
  EXPECT_EQ(out, "s3cret");
}

TEST_F(PrivateFile, AnyBitForGroupOrOthersIsRefusedWithTheModeAndTheFix) {
  std::string out, error;
  for (const auto& [mode, text] : {std::pair<mode_t, const char*>{0644, "0644"}, {0640, "0640"}, {0604, "0604"},
                                   {0610, "0610"}, {0601, "0601"}, {0666, "0666"}}) {
    const std::string f = make("f", "hunter2", mode);
    EXPECT_FALSE(shadow::read_private_file(f, 64, out, error)) << text;
    EXPECT_EQ(error, std::string("mode ") + text + " lets others read it; allowed: 0600 or stricter (chmod 600 " + f + ")");
    EXPECT_EQ(error.find("hunter2"), std::string::npos);
  }
  // setuid/sticky bits show in the mode as they are (they grant nobody a read).
  ASSERT_TRUE(shadow::read_private_file(make("s", "ok", 01600), 64, out, error)) << error;
}

TEST_F(PrivateFile, AFileOfAnotherOwnerIsRefused) {
  // Only a user who can read other users' 0600 files (root) can reach this check; as root the
  // file is handed to uid 65534 (nobody), whose 0600 file root can still open.
  if (::geteuid() != 0) SHADOW_MISSING("chown to another uid needs root; run as root");
  const std::string p = make("theirs", "hunter2", 0600);
  ASSERT_EQ(::chown(p.c_str(), 65534, 65534), 0);
  std::string out, error;
  EXPECT_FALSE(shadow::read_private_file(p, 64, out, error));
  EXPECT_EQ(error, "owned by uid 65534, not by this user (uid 0)");
}

TEST_F(PrivateFile, BoundedFileRulesStillHold) {
  std::string out, error;
  EXPECT_FALSE(shadow::read_private_file(make("big", std::string(65, 'x'), 0600), 64, out, error));
  EXPECT_EQ(error, "is 65 bytes, over the limit of 64 bytes");
  EXPECT_FALSE(shadow::read_private_file(tmp_.file("absent"), 64, out, error));
  EXPECT_EQ(error, "cannot open: No such file or directory");
  ASSERT_EQ(::chmod(tmp_.path().c_str(), 0700), 0);
  EXPECT_FALSE(shadow::read_private_file(tmp_.path(), 64, out, error));
  EXPECT_EQ(error, "is a directory, not a regular file");
  const std::string fifo = tmp_.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(shadow::read_private_file(fifo, 64, out, error));
  EXPECT_EQ(error, "is a FIFO, not a regular file");
}

TEST_F(PrivateFile, ASymlinkIsJudgedByWhatItPointsAt) {
  const std::string open = make("open", "hunter2", 0644);
  const std::string link = tmp_.file("link");
  ASSERT_EQ(::symlink(open.c_str(), link.c_str()), 0);  // a symlink's own mode is 0777
  std::string out, error;
  EXPECT_FALSE(shadow::read_private_file(link, 64, out, error));
  EXPECT_EQ(error, "mode 0644 lets others read it; allowed: 0600 or stricter (chmod 600 " + link + ")");
  ASSERT_EQ(::chmod(open.c_str(), 0600), 0);
  ASSERT_TRUE(shadow::read_private_file(link, 64, out, error)) << error;
  EXPECT_EQ(out, "hunter2");
}

}  // namespace
