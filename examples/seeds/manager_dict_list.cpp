// manager_dict_list -- seed 003 "Manager管理器": a child updates a managed list and dict.
//
// from multiprocessing import Process
// from multiprocessing import Manager
//
// def func(name,m_list,m_dict):
//     m_dict['name'] = 'malu'
//     m_list.append('你好')
//
// if __name__ == "__main__":
//     with Manager() as mgr:
//         m_list = mgr.list()
//         m_dict = mgr.dict()
//         m_list.append('Hello!!')
//         #两个进程不能直接互相使用对象，需要互相传递
//         p1 = Process(target=func,args=('p1',m_list,m_dict))
//         p1.start()
//         p1.join()   #等p1进程结束，主进程继续执行
//         print(f"主进程:{m_list}")
//         print(f"主进程:{m_dict}")
//
// Prints ['Hello!!', '你好'] and {'name': 'malu'} like Python. Checks: the parent sees both
// updates made by the child.
#include <pyconc/multiprocessing.hpp>

#include <string>
#include <vector>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;

void func(const std::string& /*name*/, mp::ListProxy<std::string> m_list,
          mp::DictProxy<std::string, std::string> m_dict) {
  m_dict["name"] = "malu";
  m_list.append("你好");
}

// Python's repr of a list and of a dict of strings.
std::string repr(const std::vector<std::string>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", '" : "'") + v[i] + "'";
  return s + "]";
}
std::string repr(const std::vector<std::pair<std::string, std::string>>& items) {
  std::string s = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    s += (i ? ", '" : "'") + items[i].first + "': '" + items[i].second + "'";
  }
  return s + "}";
}

int main() {
  std::string list_repr, dict_repr;
  {
    mp::Manager mgr;  // with Manager() as mgr:
    auto m_list = mgr.list<std::string>();
    auto m_dict = mgr.dict<std::string, std::string>();
    m_list.append("Hello!!");
    // 两个进程不能直接互相使用对象，需要互相传递
    mp::Process p1(func, std::string("p1"), m_list, m_dict);
    p1.start();
    p1.join();  // 等p1进程结束，主进程继续执行
    list_repr = repr(m_list.to_vector());
    dict_repr = repr(m_dict.items());
    print("主进程:" + list_repr);
    print("主进程:" + dict_repr);
  }
  if (list_repr != "['Hello!!', '你好']" || dict_repr != "{'name': 'malu'}") {
    print("FAIL: the parent sees the child's append and assignment");
    return 1;
  }
  return 0;
}
