#include "tokenmeter/base/thread_name.h"

#include <pthread.h>

#include <cstring>
#include <string>

namespace tokenmeter {

void NameThisThread(const char* name) {
  constexpr size_t kMax = 15;  // Linux's limit, without the terminating NUL
  std::string cut(name, std::min(std::strlen(name), kMax));
  (void)pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace tokenmeter
