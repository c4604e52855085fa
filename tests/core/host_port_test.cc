// core/host_port: the URL authority rules every program's URLs share (ws:// venues, redis://).
#include "core/host_port.h"

#include <gtest/gtest.h>

#include <string>

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
  EXPECT_EQ(problem_of("ex$ample.com"), "a bad host character '$' at offset 2 of the host");
  EXPECT_EQ(problem_of("[::1x]:80"), "a bad host character 'x' at offset 3 of the host");
  EXPECT_EQ(problem_of(std::string(254, 'a')), "a host longer than 253 bytes");
  EXPECT_EQ(split(std::string(253, 'a')).host.size(), 253u);
  EXPECT_EQ(split("my-host_1.example~x").host, "my-host_1.example~x");
}

std::string url_problem(std::string_view url) {
  std::string problem;
  EXPECT_FALSE(check_url_text(url, problem)) << url;
  return problem;
}

TEST(UrlText, Rfc3986CharactersPass) {
  std::string problem;
  for (const char* ok : {"ws://stream.bybit.com/v5/public/linear", "ws://[::1]:8080/ws?streams=btcusdt@depth",
                         "redis://127.0.0.1:6379/0", "unix:///run/redis/redis.sock?db=2",
                         "ws://h/a%20b?x=1&y=(2)*3+4,5;6=7!$'~_-.", ""}) {
    EXPECT_TRUE(check_url_text(ok, problem)) << ok << ": " << problem;
  }
  EXPECT_TRUE(check_url_text(std::string(kMaxUrlLength, 'a'), problem));
}

TEST(UrlText, ControlCharactersSpacesAndBadEscapesAreNamedNotEchoed) {
  using namespace std::string_literals;
  EXPECT_EQ(url_problem("ws://h/\r\nX: y"),
            "a control character (0x0d) at offset 7 (only RFC 3986 URI characters are allowed)");
  EXPECT_EQ(url_problem("ws://h/\n"), "a control character (0x0a) at offset 7 (only RFC 3986 URI characters are allowed)");
  EXPECT_EQ(url_problem("ws://h/\0"s), "a control character (0x00) at offset 7 (only RFC 3986 URI characters are allowed)");
  EXPECT_EQ(url_problem("ws://h/\x7f"), "a control character (0x7f) at offset 7 (only RFC 3986 URI characters are allowed)");
  EXPECT_EQ(url_problem("ws://h/a b"), "a space at offset 8 (only RFC 3986 URI characters are allowed)");
  EXPECT_EQ(url_problem("ws://h/\xc3\xa9"), "a non-ASCII byte (0xc3) at offset 7 (only RFC 3986 URI characters are allowed)");
  EXPECT_EQ(url_problem("ws://h/<x>"), "a bad URL character '<' at offset 7 (only RFC 3986 URI characters are allowed)");
  EXPECT_EQ(url_problem("ws://h/%2"), "a bad percent escape at offset 7 ('%' must be followed by two hex digits)");
  EXPECT_EQ(url_problem("ws://h/%zz"), "a bad percent escape at offset 7 ('%' must be followed by two hex digits)");
  EXPECT_EQ(url_problem(std::string(kMaxUrlLength + 1, 'a')), "2049 bytes (at most 2048)");
}

}  // namespace
}  // namespace shadow
