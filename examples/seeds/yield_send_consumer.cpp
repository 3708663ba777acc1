// yield_send_consumer -- seed 004: a generator consumer driven by send() from a producer.
//
// def consumer():
//     r = ''
//     while True:
//         n = yield r
//         if not n:
//             return
//         print('[CONSUMER] Consuming %s...' % n)
//         r = '200 OK'
//
// def produce(c):
//     c.send(None)
//     n = 0
//     while n < 5:
//         n = n + 1
//         print('[PRODUCER] Producing %s...' % n)
//         r = c.send(n)
//         print('[PRODUCER] Consumer return: %s' % r)
//     c.close()
//
// c = consumer()
// produce(c)
//
// Differences: the generator states its types -- it yields strings and receives optional ints
// (`std::nullopt` plays None, so `if not n` reads the same); c.send(None) is c.send().
#include <pyconc/generator.hpp>

#include <optional>
#include <string>
#include <vector>

#include "print.hpp"

std::vector<int> consumed;
std::vector<std::string> replies;

pyconc::Generator<std::string, std::optional<int>> consumer() {
  std::string r = "";
  while (true) {
    std::optional<int> n = co_yield r;
    if (!n) co_return;
    print("[CONSUMER] Consuming " + std::to_string(*n) + "...");
    consumed.push_back(*n);
    r = "200 OK";
  }
}

void produce(pyconc::Generator<std::string, std::optional<int>>& c) {
  c.send();
  int n = 0;
  while (n < 5) {
    n = n + 1;
    print("[PRODUCER] Producing " + std::to_string(n) + "...");
    std::string r = c.send(n);
    print("[PRODUCER] Consumer return: " + r);
    replies.push_back(r);
  }
  c.close();
}

int main() {
  auto c = consumer();
  produce(c);

  if (consumed != std::vector<int>{1, 2, 3, 4, 5} ||
      replies != std::vector<std::string>(5, "200 OK") || !c.done()) {
    print("FAIL: the consumer must get 1..5 in order and answer each with 200 OK");
    return 1;
  }
  return 0;
}
