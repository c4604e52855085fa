// core/host_port: the URL authority rules every program's URLs share (ws:// venues, redis://).
#include "core/host_port.h"

#include <gtest/gtest.h>

namespace shadow {
namespace {

HostPort split(std::string_view a) {
  HostPort hp;
  std::string problem;
  EXPECT_TRUE(split_host_port(a, hp, problem)) << a << ": " << problem;
  return hp;
}

std::string problem_of(std::string_view a) {
  HostPort hp;
  std::string problem;
  EXPECT_FALSE(split_host_port(a, hp, problem)) << a;
  return problem;
}

TEST(HostPort, HostAloneHasNoPort) {
  const HostPort hp = split("stream.bybit.com");
  EXPECT_EQ(hp.host, "stream.bybit.com");
  EXPECT_EQ(hp.port, 0);
}

TEST(HostPort, HostAndPort) {
  const HostPort hp = split("127.0.0.1:9443");
  EXPECT_EQ(hp.host, "127.0.0.1");
  EXPECT_EQ(hp.port, 9443);
  EXPECT_EQ(split("h:1").port, 1);
  EXPECT_EQ(split("h:65535").port, 65535);
}

TEST(HostPort, Ipv6LiteralLosesItsBrackets) {
  EXPECT_EQ(split("[::1]").host, "::1");
  const HostPort hp = split("[fe80::1]:6379");
  EXPECT_EQ(hp.host, "fe80::1");
  EXPECT_EQ(hp.port, 6379);
}

TEST(HostPort, ProblemsAreNamed) {
  EXPECT_EQ(problem_of(""), "no host");
  EXPECT_EQ(problem_of(":80"), "no host");
  EXPECT_EQ(problem_of("h:"), "an empty port");
  EXPECT_EQ(problem_of("[::1]:"), "an empty port");
  EXPECT_EQ(problem_of("[::1"), "an unterminated IPv6 address");
  EXPECT_EQ(problem_of("[::1]x"), "junk after the IPv6 address");
  EXPECT_EQ(problem_of("h:0"), "a bad port '0' (allowed: 1..65535)");
  EXPECT_EQ(problem_of("h:65536"), "a bad port '65536' (allowed: 1..65535)");
  EXPECT_EQ(problem_of("h:99999999999999999999"), "a bad port '99999999999999999999' (allowed: 1..65535)");
  EXPECT_EQ(problem_of("h:8o"), "a bad port '8o' (allowed: 1..65535)");
  EXPECT_EQ(problem_of("h:1:2"), "a bad port '1:2' (allowed: 1..65535)");
}

}  // namespace
}  // namespace shadow
