#pragma once
// The device's main program: the board's adapters (card, NVS, TLS, clock, camera, task
// watchdog, Wi-Fi, portal, LEDs, serial log) around the core's DeviceLoop, the same loop
// host/sim_camera_main.cpp runs. Every decision of a loop turn is the core's.

void device_setup();
void device_loop();
