#pragma once
// The device's main program: wires the Arduino glue to the portable core the same way
// host/sim_camera_main.cpp wires the POSIX adapters (SeqAllocator, CaptureQueue, HttpConnection,
// DeviceApi, Uploader, capture_time). Queue, upload, retry and time-correction decisions all
// stay in the core; this file only schedules and reports.

void device_setup();
void device_loop();
