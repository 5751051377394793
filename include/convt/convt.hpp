// convt/convt.hpp — umbrella header: `#include <convt/convt.hpp>`.
#pragma once

#include "convt/conv_transpose.hpp"
#include "convt/dimension_numbers.hpp"
#include "convt/epilogue.hpp"
#include "convt/error.hpp"
#include "convt/kernel.hpp"
#include "convt/options.hpp"
#include "convt/padding.hpp"
#include "convt/plan.hpp"
#include "convt/strides.hpp"
#include "convt/tensor.hpp"
#include "convt/threads.hpp"
#include "convt/types.hpp"
#include "convt/version.hpp"
