#include <pthreadpool.h>
#include <xnnpack.h>

int main() {
  pthreadpool_t pool = pthreadpool_create(1);
  pthreadpool_destroy(pool);
  return xnn_initialize(nullptr) == xnn_status_success ? 0 : 1;
}
