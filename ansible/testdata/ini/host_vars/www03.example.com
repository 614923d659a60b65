ansible_port: 2022
