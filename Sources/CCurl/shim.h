#ifndef GRIDCAST_CCURL_SHIM_H
#define GRIDCAST_CCURL_SHIM_H
#include <curl/curl.h>
#endif
