// asyncio_producer_consumer -- seed 004 "用协程来实现一个经典的生产者消费者模型": two producers and
// two consumers around an asyncio.Queue, the consumers cancelled at the end.
//
// import asyncio
// import random
//
// async def consumer(queue, id):
//     while True:
//         val = await queue.get()
//         print('{} get a val: {}'.format(id, val))
//         await asyncio.sleep(1)
//
// async def producer(queue, id):
//     for i in range(5):
//         val = random.randint(1, 10)
//         await queue.put(val)
//         print('{} put a val: {}'.format(id, val))
//         await asyncio.sleep(1)
//
// async def main():
//     queue = asyncio.Queue()
//
//     consumer_1 = asyncio.create_task(consumer(queue, 'consumer_1'))
//     consumer_2 = asyncio.create_task(consumer(queue, 'consumer_2'))
//
//     producer_1 = asyncio.create_task(producer(queue, 'producer_1'))
//     producer_2 = asyncio.create_task(producer(queue, 'producer_2'))
//
//     await asyncio.sleep(10)
//     consumer_1.cancel()
//     consumer_2.cancel()
//
//     await asyncio.gather(consumer_1, consumer_2, producer_1, producer_2, return_exceptions=True)
//
// asyncio.run(main())
//
// Differences: `gather(..., return_exceptions=True)` is spelled as a loop awaiting each task and
// keeping what it raised (the consumers' CancelledError), which is what it collects. The check
// at the end is the lesson: every value put was got exactly once or is still in the queue --
// cancelling a consumer while it waits in get() loses nothing.
#include <pyconc/asyncio.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "print.hpp"

using namespace std::chrono_literals;
namespace aio = pyconc::asyncio;

std::chrono::milliseconds second = 1s;  // the seed's asyncio.sleep(1)
std::vector<int> put_values, got_values;

aio::Task<> consumer(aio::Queue<int>& queue, std::string id) {
  while (true) {
    int val = co_await queue.get();
    got_values.push_back(val);
    print(id, "get a val:", val);
    co_await aio::sleep(second);
  }
}

aio::Task<> producer(aio::Queue<int>& queue, std::string id) {
  static std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> randint(1, 10);
  for (int i = 0; i < 5; ++i) {
    int val = randint(rng);
    co_await queue.put(val);
    put_values.push_back(val);
    print(id, "put a val:", val);
    co_await aio::sleep(second);
  }
}

aio::Task<bool> amain() {
  aio::Queue<int> queue;

  auto consumer_1 = aio::create_task(consumer(queue, "consumer_1"));
  auto consumer_2 = aio::create_task(consumer(queue, "consumer_2"));

  auto producer_1 = aio::create_task(producer(queue, "producer_1"));
  auto producer_2 = aio::create_task(producer(queue, "producer_2"));

  co_await aio::sleep(10 * second);
  consumer_1.cancel();
  consumer_2.cancel();

  // await asyncio.gather(consumer_1, consumer_2, producer_1, producer_2, return_exceptions=True)
  int cancelled = 0;
  for (auto* t : {&consumer_1, &consumer_2, &producer_1, &producer_2}) {
    try {
      co_await *t;
    } catch (const aio::CancelledError&) {
      ++cancelled;
    }
  }
  print("gather: consumers cancelled:", cancelled);

  // Nothing lost: what was put was either got or is still queued.
  std::vector<int> accounted = got_values;
  while (!queue.empty()) accounted.push_back(queue.get_nowait());
  std::vector<int> put_sorted = put_values;
  std::sort(put_sorted.begin(), put_sorted.end());
  std::sort(accounted.begin(), accounted.end());
  co_return cancelled == 2 && put_values.size() == 10 && accounted == put_sorted;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--quick") second = 10ms;
  if (!aio::run(amain())) {
    print("FAIL: every value put must be got exactly once (or still be queued)");
    return 1;
  }
  return 0;
}
