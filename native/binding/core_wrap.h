#pragma once
// `Core`, the JS class around one ficus::Core. A thin forwarder: the
// JS layer (lib/) validates arguments and turns statuses into errors.
//
// Threads: every method runs on the JS thread. Worker threads only ring the
// thread-safe function (a doorbell, no data); its CallJs takes the
// notifications on the JS thread in one batch.
//
// Shutdown order (close(), environment cleanup, GC): stop the core
// (joins its threads, so nothing rings any more), then abort the
// thread-safe function. After the abort, CallJs only ever runs with a null
// env, so it never touches this object again.

#include <napi.h>

#include <memory>
#include <optional>

#include "ficus/core.h"

namespace ficus::binding {

class CoreWrap : public Napi::ObjectWrap<CoreWrap> {
 public:
  static Napi::Function Define(Napi::Env env);

  explicit CoreWrap(const Napi::CallbackInfo& info);
  ~CoreWrap() override;

 private:
  static void CallJs(Napi::Env env, Napi::Function, CoreWrap* self, void*);
  using Doorbell = Napi::TypedThreadSafeFunction<CoreWrap, void, CallJs>;

  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value Adopt(const Napi::CallbackInfo& info);
  Napi::Value PublishEvents(const Napi::CallbackInfo& info);
  Napi::Value PublishRaw(const Napi::CallbackInfo& info);
  Napi::Value Subscribe(const Napi::CallbackInfo& info);
  Napi::Value Unsubscribe(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value AnswerAuthorization(const Napi::CallbackInfo& info);
  Napi::Value UpdateGrant(const Napi::CallbackInfo& info);
  Napi::Value TakeNotifications(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value ThreadCount(const Napi::CallbackInfo& info);
  Napi::Value SetMirrorIngest(const Napi::CallbackInfo& info);
  Napi::Value SetFailpoints(const Napi::CallbackInfo& info);
  Napi::Value ReadStream(const Napi::CallbackInfo& info);
  Napi::Value StreamHead(const Napi::CallbackInfo& info);
  Napi::Value FindPosition(const Napi::CallbackInfo& info);
  Napi::Value UseSharedStream(const Napi::CallbackInfo& info);
  Napi::Value TailStream(const Napi::CallbackInfo& info);
  Napi::Value StopTail(const Napi::CallbackInfo& info);
  Napi::Value AppendStream(const Napi::CallbackInfo& info);
  Napi::Value ReleaseAppend(const Napi::CallbackInfo& info);
  Napi::Value StopAppend(const Napi::CallbackInfo& info);
  Napi::Value LastPosition(const Napi::CallbackInfo& info);

  Napi::Array takeNotifications(Napi::Env env);
  Core& dispatcher(Napi::Env env);
  void shutdown(std::optional<uint32_t> timeout_ms);

  std::unique_ptr<Core> dispatcher_;
  Doorbell doorbell_;
  bool doorbell_live_ = false;
  Napi::FunctionReference on_notify_;
  // Removed when shut down deliberately; runs at environment teardown
  // (natural exit, worker termination) otherwise.
  std::optional<Napi::Env::CleanupHook<std::function<void()>>> cleanup_;
};

}  // namespace ficus::binding
