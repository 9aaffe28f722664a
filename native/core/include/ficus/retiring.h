#pragma once
// Closing something that closes asynchronously (libuv handles inside):
// it leaves its owner's slot at once and is kept alive among the closing
// until its close callback says it is done, then freed.

#include <algorithm>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace ficus {

// `T::close(std::function<void()> on_closed)`; `close_args` come before
// the callback. `then` runs after it is freed.
template <typename T, typename... Args>
void retire(std::unique_ptr<T>& owned, std::vector<std::unique_ptr<T>>& closing,
            std::function<void()> then, Args&&... close_args) {
  if (!owned) return;
  T* item = owned.get();
  closing.push_back(std::move(owned));
  item->close(std::forward<Args>(close_args)..., [&closing, item,
                                                  then = std::move(then)] {
    std::erase_if(closing, [item](const auto& c) { return c.get() == item; });
    if (then) then();
  });
}

}  // namespace ficus
