// core/bounded_file.{h,cc}: only regular files (directories, FIFOs, devices refused by kind,
// without blocking), the size limit at its edge and while reading, symlinks followed.
#include "core/bounded_file.h"
#include "tests/support/temp_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;

class BoundedFile : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.empty()) << "mkdtemp failed"; }
  std::string write(const std::string& name, const std::string& content) { return tmp_.write(name, content); }
  shadow::test_support::TempDir tmp_{"bounded_file_test"};
  const std::string& dir_ = tmp_.path();
};

TEST_F(BoundedFile, ReadsARegularFileUpToTheLimitInclusive) {
  const std::string p = write("ten", "0123456789");
  std::string out = "old", error;
  ASSERT_TRUE(shadow::read_regular_file(p, 10, out, error)) << error;
  EXPECT_EQ(out, "0123456789");
  EXPECT_FALSE(shadow::read_regular_file(p, 9, out, error));
  EXPECT_EQ(error, "is 10 bytes, over the limit of 9 bytes");
  const std::string empty = write("empty", "");
  ASSERT_TRUE(shadow::read_regular_file(empty, 0, out, error)) << error;
  EXPECT_EQ(out, "");
}

TEST_F(BoundedFile, LimitHoldsWhileReadingAFileThatReportsNoSize) {
  // /proc files are regular files of st_size 0: the limit must hold on what is read.
  std::string out, error;
  ASSERT_TRUE(shadow::read_regular_file("/proc/self/status", 1 << 20, out, error)) << error;
  EXPECT_NE(out.find("Name:"), std::string::npos);
  EXPECT_FALSE(shadow::read_regular_file("/proc/self/status", 16, out, error));
  EXPECT_EQ(error, "is more than 16 bytes, over the limit of 16 bytes");
}

TEST_F(BoundedFile, RefusesEveryOtherKindByName) {
  std::string out, error;
  EXPECT_FALSE(shadow::read_regular_file(dir_, 1 << 20, out, error));
  EXPECT_EQ(error, "is a directory, not a regular file");
  EXPECT_FALSE(shadow::read_regular_file("/dev/zero", 1 << 20, out, error));
  EXPECT_EQ(error, "is a character device, not a regular file");
  EXPECT_FALSE(shadow::read_regular_file(dir_ + "/absent", 1 << 20, out, error));
  EXPECT_EQ(error, "cannot open: No such file or directory");
}

TEST_F(BoundedFile, AFifoIsRefusedWithoutBlocking) {
  // No writer ever opens it: a blocking open() would wait forever (the test's timeout).
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto t0 = std::chrono::steady_clock::now();
  std::string out, error;
  EXPECT_FALSE(shadow::read_regular_file(fifo, 1 << 20, out, error));
  EXPECT_EQ(error, "is a FIFO, not a regular file");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST_F(BoundedFile, SymlinksAreFollowedToWhatTheyPointAt) {
  const std::string target = write("target", "{}");
  const std::string good = dir_ + "/good", bad = dir_ + "/bad";
  ASSERT_EQ(::symlink(target.c_str(), good.c_str()), 0);
  ASSERT_EQ(::symlink("/dev/zero", bad.c_str()), 0);
  std::string out, error;
  ASSERT_TRUE(shadow::read_regular_file(good, 100, out, error)) << error;
  EXPECT_EQ(out, "{}");
  EXPECT_FALSE(shadow::read_regular_file(bad, 100, out, error));
  EXPECT_EQ(error, "is a character device, not a regular file");
}

TEST_F(BoundedFile, OpenGivesABlockingDescriptorAndTheSize) {
  const std::string p = write("f", "abc");
  std::string error;
  std::size_t size = 0;
  const int fd = shadow::open_regular_file(p, error, &size);
  ASSERT_GE(fd, 0) << error;
  EXPECT_EQ(size, 3u);
  EXPECT_EQ(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  ::close(fd);
}

TEST(BoundedFileText, KindsAndLimits) {
  EXPECT_STREQ(shadow::file_kind(S_IFSOCK), "a socket");
  EXPECT_STREQ(shadow::file_kind(S_IFBLK), "a block device");
  EXPECT_EQ(shadow::byte_count_text(16u << 20), "16 MiB");
  EXPECT_EQ(shadow::byte_count_text(64u << 10), "64 KiB");
  EXPECT_EQ(shadow::byte_count_text(std::size_t{1} << 30), "1 GiB");
  EXPECT_EQ(shadow::byte_count_text(1000), "1000 bytes");
  EXPECT_EQ(shadow::byte_count_text(1), "1 byte");
}

}  // namespace
